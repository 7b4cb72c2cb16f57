package io.patchmesh.tools;

import io.patchmesh.errors.UserInputException;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The patchmesh command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or
 * unreadable input, 3 rejected by verification. A user mistake is one line on
 * stderr, never a stack trace (set PATCHMESH_DEBUG=1 to see traces).
 */
@Command(
    name = "patchmesh",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Verified peer-to-peer patch distribution over poor links.",
    subcommands = {
      KeygenCommand.class,
      TrustCommand.class,
      CaCommand.class,
      PublishCommand.class,
      SignCommand.class,
      PushCommand.class,
      VerifyCommand.class,
      InspectCommand.class,
      ApplyCommand.class,
      SeedCommand.class,
      AgentCommand.class,
      StatusCommand.class,
      RolloutCommand.class,
      InventoryCommand.class,
      ComplianceCommand.class,
      AdvisoriesCommand.class,
      ExposureCommand.class,
      SimCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;
  public static final int REJECTED = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; returns the exit code (tests call this directly). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    AgentCommand plain = args.length > 0 && args[0].equals("agent") ? AgentArgs.parse(Arrays.asList(args).subList(1, args.length)) : null;
    if (plain != null) {
      plain.plainErr = err;
      try {
        return plain.call();
      } catch (Exception ex) {
        return failed(ex, err);
      }
    }
    CommandLine cl = commandLine(args);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> failed(ex, commandLine.getErr()));
    cl.setParameterExceptionHandler(
        (ex, args2) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr().println("patchmesh: " + ex.getMessage());
          c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
          c.getErr().flush();
          return USAGE;
        });
    return cl.execute(args);
  }

  /**
   * The whole command tree, or for {@code agent} a tree of that one command: picocli builds and
   * reflects every registered command when the tree is made, and an agent (running on every
   * machine for months) would keep the other 50 command classes, their option models and the
   * metadata of both (docs/BENCHMARKS.md section 12.6). Usage errors read the same either way.
   */
  static CommandLine commandLine(String[] args) {
    if (args.length > 0 && args[0].equals("agent")) {
      CommandLine root = new CommandLine(CommandLine.Model.CommandSpec.create().name("patchmesh"));
      root.addSubcommand("agent", new AgentCommand());
      return root;
    }
    return new CommandLine(new Main());
  }

  /** A command's failure: one line on {@code err} (a trace too with PATCHMESH_DEBUG), its exit code. */
  static int failed(Exception ex, PrintWriter err) {
    err.println("patchmesh: " + oneLine(ex));
    if (System.getenv("PATCHMESH_DEBUG") != null) {
      ex.printStackTrace(err);
    }
    err.flush();
    return exitCodeOf(ex);
  }

  static int exitCodeOf(Throwable ex) {
    if (ex instanceof UserInputException u) {
      return u.exitCode();
    }
    if (ex instanceof io.patchmesh.trust.VerificationException) {
      return REJECTED;
    }
    if (ex instanceof CliFailure f) {
      return f.exitCode();
    }
    return FAILURE;
  }

  static String oneLine(Throwable ex) {
    String msg = ex.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = ex.getClass().getSimpleName();
    }
    if (!(ex instanceof UserInputException
        || ex instanceof CliFailure
        || ex instanceof io.patchmesh.trust.VerificationException)) {
      msg = msg + " (" + ex.getClass().getSimpleName() + ")";
    }
    return msg.replace('\n', ' ');
  }

  /** Version from the jar manifest, or "dev". */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"patchmesh " + (v == null ? "0.1.0-dev" : v)};
    }
  }
}
