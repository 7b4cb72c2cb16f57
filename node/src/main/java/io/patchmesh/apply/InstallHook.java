package io.patchmesh.apply;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a manifest's install command: {@code /bin/sh -c CMD} in the apply dir, in a session and
 * process group of its own ({@code setsid}), with an allowlisted environment only:
 *
 * <ul>
 *   <li>{@code PATH} (a fixed system path, not the agent's);
 *   <li>{@code PATCHMESH_CHANNEL}, {@code PATCHMESH_VERSION}, {@code PATCHMESH_MANIFEST_ID},
 *       {@code PATCHMESH_PREVIOUS_VERSION} (0 if none): the patch facts;
 *   <li>{@code PATCHMESH_APPLY_DIR}: the apply dir as an absolute, real path;
 *   <li>{@code LANG=C.UTF-8}.
 * </ul>
 *
 * Nothing else of the agent's environment (tokens, proxies, HOME) reaches it. When the command
 * exits, or on timeout, the whole process group is killed (SIGKILL), so background children do
 * not outlive it; processes that left the group on purpose (their own setsid) are also killed if
 * they are still descendants. The last {@link #OUTPUT_TAIL_BYTES} of its output are kept.
 */
final class InstallHook {
  static final int OUTPUT_TAIL_BYTES = 2048;
  static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** What happened: exit code (-1 if it did not finish), whether it timed out, output tail. */
  record Outcome(int exitCode, boolean timedOut, String outputTail, String startError) {}

  private InstallHook() {}

  /** The environment the command sees, exactly. */
  static Map<String, String> environment(Path applyDir, String channel, long version, String manifestId, long previousVersion)
      throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", PATH);
    env.put("LANG", "C.UTF-8");
    env.put("PATCHMESH_CHANNEL", channel);
    env.put("PATCHMESH_VERSION", Long.toString(version));
    env.put("PATCHMESH_MANIFEST_ID", manifestId);
    env.put("PATCHMESH_PREVIOUS_VERSION", Long.toString(previousVersion));
    env.put("PATCHMESH_APPLY_DIR", applyDir.toRealPath().toString());
    return env;
  }

  static Outcome run(String cmd, Path applyDir, Map<String, String> env, Duration timeout) {
    boolean setsid = Files.isExecutable(Path.of("/usr/bin/setsid"));
    ProcessBuilder pb = setsid
        ? new ProcessBuilder("/usr/bin/setsid", "/bin/sh", "-c", cmd)
        : new ProcessBuilder("/bin/sh", "-c", cmd);
    pb.directory(applyDir.toFile()).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Outcome(-1, false, "", "install command could not start: " + e.getMessage());
    }
    Tail tail = new Tail(p.getInputStream());
    Thread reader = new Thread(tail, "install-output");
    reader.setDaemon(true);
    reader.start();
    try {
      boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      killGroup(p, setsid);
      reader.join(2000);
      return finished
          ? new Outcome(p.exitValue(), false, tail.text(), null)
          : new Outcome(-1, true, tail.text(), null);
    } catch (InterruptedException e) {
      killGroup(p, setsid);
      Thread.currentThread().interrupt();
      return new Outcome(-1, false, tail.text(), "interrupted while installing");
    }
  }

  /**
   * SIGKILL to the process group (setsid made the shell its leader: group id = its pid), then to
   * any descendant still known to the JVM.
   */
  private static void killGroup(Process p, boolean setsid) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    if (setsid) {
      try {
        Process k = new ProcessBuilder("/bin/kill", "-KILL", "--", "-" + p.pid()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        k.waitFor(5, TimeUnit.SECONDS);
      } catch (IOException e) {
        // the group is gone already or kill is missing: descendants were killed above
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // through its handle: Process.destroyForcibly also closes our end of its output pipe, and when it ran
    // before the reader thread had drained the pipe the output tail came back empty (PatchManagerTest on a
    // loaded machine); the handle kills the process and leaves the stream to the reader until EOF
    p.toHandle().destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Keeps the last {@link #OUTPUT_TAIL_BYTES} of a stream. */
  private static final class Tail implements Runnable {
    private final InputStream in;
    private final byte[] ring = new byte[OUTPUT_TAIL_BYTES];
    private long total;

    Tail(InputStream in) {
      this.in = in;
    }

    @Override
    public void run() {
      byte[] buf = new byte[4096];
      try (in) {
        for (int n; (n = in.read(buf)) > 0; ) {
          synchronized (this) {
            for (int i = 0; i < n; i++) {
              ring[(int) (total++ % ring.length)] = buf[i];
            }
          }
        }
      } catch (IOException e) {
        // process gone
      }
    }

    synchronized String text() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long start = Math.max(0, total - ring.length);
      for (long i = start; i < total; i++) {
        out.write(ring[(int) (i % ring.length)]);
      }
      return out.toString(StandardCharsets.UTF_8);
    }
  }
}
