package io.patchmesh.inventory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one collector process with a timeout and an output bound; blocking, so it runs on the
 * inventory's own thread, never the node loop. A process still running at the deadline is killed
 * with its children (a shell's {@code sleep} would otherwise hold the pipe open).
 */
public final class CollectorRun {
  /** A collection: a list, or the reason there is none. */
  public record Result(SoftwareList list, String source, String error) {
    public boolean ok() {
      return error == null;
    }
  }

  private final InventorySettings settings;
  private final ScheduledExecutorService watchdog;
  private volatile Process process;
  private volatile boolean cancelled;

  public CollectorRun(InventorySettings settings, ScheduledExecutorService watchdog) {
    this.settings = settings;
    this.watchdog = watchdog;
  }

  /** Which collector this host uses, and its command line; null if none applies. */
  public static Plan plan(InventorySettings s) {
    String c = s.collector();
    if (c.equals("auto")) {
      c = onPath("dpkg-query") ? "dpkg" : onPath("rpm") ? "rpm" : "off";
    }
    // with dpkg or rpm, inventory-command names the executable (a wrapper, a chroot's, a test's stand-in)
    String exe = s.command().isBlank() ? null : s.command();
    return switch (c) {
      case "dpkg" -> new Plan(CollectorOutput.DPKG,
          List.of(exe == null ? "dpkg-query" : exe, "-W", "-f", "${binary:Package}\\t${Version}\\t${db:Status-Abbrev}\\n"));
      case "rpm" -> new Plan(CollectorOutput.RPM,
          List.of(exe == null ? "rpm" : exe, "-qa", "--qf", "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\n"));
      case "command" -> new Plan(CollectorOutput.COMMAND, List.of("/bin/sh", "-c", s.command()));
      default -> null;
    };
  }

  /** A collector's output format and command line. */
  public record Plan(CollectorOutput output, List<String> command) {}

  static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code plan}; never throws for anything the collector does. */
  public Result run(Plan plan) {
    String source = plan.output().source();
    Process p;
    try {
      p = new ProcessBuilder(plan.command()).redirectError(ProcessBuilder.Redirect.DISCARD)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    } catch (IOException e) {
      return new Result(null, source, "cannot start " + plan.command().get(0) + ": " + e.getMessage());
    }
    process = p;
    if (cancelled) {
      kill(p);
    }
    AtomicBoolean timedOut = new AtomicBoolean();
    ScheduledFuture<?> deadline = watchdog.schedule(() -> {
      timedOut.set(true);
      kill(p);
    }, settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
    byte[] out;
    boolean tooLong = false;
    try (InputStream in = p.getInputStream()) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] b = new byte[64 * 1024];
      for (int n; (n = in.read(b)) > 0; ) {
        if (buf.size() + n > InventoryLimits.MAX_OUTPUT_BYTES) {
          tooLong = true;
          kill(p);
          break;
        }
        buf.write(b, 0, n);
      }
      out = buf.toByteArray();
      p.waitFor(Math.max(1, settings.timeout().toMillis()), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      out = null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(p);
      return new Result(null, source, "interrupted");
    } finally {
      deadline.cancel(false);
    }
    if (timedOut.get()) {
      return new Result(null, source, "collector timed out after " + settings.timeout().toSeconds() + " s: " + String.join(" ", plan.command()));
    }
    if (tooLong) {
      return new Result(null, source, "collector printed more than " + InventoryLimits.MAX_OUTPUT_BYTES / (1024 * 1024) + " MiB: refused");
    }
    if (out == null) {
      return new Result(null, source, "collector output unreadable");
    }
    if (p.isAlive()) {
      kill(p);
      return new Result(null, source, "collector closed its output but did not exit: killed");
    }
    if (p.exitValue() != 0) {
      return new Result(null, source, "collector exited with " + p.exitValue() + ": " + String.join(" ", plan.command()));
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(out)).toString();
    } catch (CharacterCodingException e) {
      return new Result(null, source, "collector printed garbage: output is not UTF-8");
    }
    try {
      return new Result(plan.output().read(text), source, null);
    } catch (CollectorOutput.GarbageException e) {
      return new Result(null, source, "collector printed garbage: " + e.getMessage());
    }
  }

  /** Kills the running collector (the agent is stopping). */
  public void cancel() {
    cancelled = true;
    Process p = process;
    if (p != null) {
      kill(p);
    }
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }
}
