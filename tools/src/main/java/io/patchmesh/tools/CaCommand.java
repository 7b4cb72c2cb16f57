package io.patchmesh.tools;

import io.patchmesh.net.NodeId;
import io.patchmesh.net.tls.MeshCa;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "ca",
    description = "The mesh CA: every node proves its identity and site with a certificate from it (mutual TLS).",
    subcommands = {CaCommand.Init.class, CaCommand.Issue.class})
final class CaCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Override
  public Integer call() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: init or issue");
  }

  @Command(name = "init", description = "Create a mesh CA (ca.key mode 0600, ca.crt). Keep ca.key offline.")
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--out", required = true, paramLabel = "CA_DIR", description = "directory to create the CA in")
    Path out;

    @Override
    public Integer call() {
      new MeshCa().init(out);
      PrintWriter o = spec.commandLine().getOut();
      o.printf("mesh CA created in %s (keep %s offline)%n", out, out.resolve(MeshCa.CA_KEY));
      return Main.OK;
    }
  }

  @Command(name = "issue", description = "Issue a node certificate for NAME in SITE: NODE_DIR gets node.key, node.crt, ca.crt.")
  static final class Issue implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--ca", required = true, paramLabel = "CA_DIR") Path ca;
    @Option(names = "--node", required = true, paramLabel = "NAME") String node;
    @Option(names = "--site", required = true, paramLabel = "SITE") String site;
    @Option(names = "--out", required = true, paramLabel = "NODE_DIR") Path out;
    @Option(names = "--role", defaultValue = "agent", paramLabel = "agent|seed", description = "seed certificates may steer rollouts (default: ${DEFAULT-VALUE})") String role;
    @Option(names = "--json", description = "print {\"nodeId\",\"node\",\"site\",\"dir\"}") boolean json;

    @Override
    public Integer call() {
      if (!role.equals("agent") && !role.equals("seed")) {
        throw new io.patchmesh.errors.UserInputException("--role " + role + ": expected agent or seed");
      }
      NodeId id = new MeshCa().issue(ca, node, site, out, role.equals("seed"));
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        var n = JsonOut.object();
        n.put("nodeId", id.hex());
        n.put("node", node);
        n.put("site", site);
        n.put("dir", out.toString());
        JsonOut.print(o, n);
      } else {
        o.printf("issued %s (site %s) -> %s%n  node id %s%n", node, site, out, id.hex());
      }
      return Main.OK;
    }
  }
}
