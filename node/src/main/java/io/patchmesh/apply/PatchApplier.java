package io.patchmesh.apply;

import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Materializes a complete, verified manifest into the agent's apply directory
 * (atomic per file, every file hashed again, see {@link FileAssembler}) and
 * runs its install command only if this agent's config allows install
 * commands. The command runs in the apply directory through /bin/sh with a
 * timeout; its exit status and a bounded tail of its output go into status.
 */
public final class PatchApplier {
  /** Output kept for status, so a chatty installer cannot bloat reports. */
  public static final int OUTPUT_TAIL_BYTES = 2048;

  /** What happened. {@code exitCode} is -1 when no command ran. */
  public record Result(boolean ok, String reason, int exitCode, String outputTail) {
    static Result failed(String reason) {
      return new Result(false, reason, -1, "");
    }
  }

  private final Path applyDir;
  private final boolean allowInstall;
  private final Duration installTimeout;

  public PatchApplier(Path applyDir, boolean allowInstall, Duration installTimeout) {
    this.applyDir = applyDir;
    this.allowInstall = allowInstall;
    this.installTimeout = installTimeout;
  }

  public Result apply(Manifest manifest, ChunkSource source) {
    if (!Files.isDirectory(applyDir)) {
      try {
        Files.createDirectories(applyDir);
      } catch (IOException e) {
        return Result.failed("apply dir " + applyDir + " is missing and cannot be created: " + e.getMessage());
      }
    }
    if (!Files.isWritable(applyDir)) {
      return Result.failed("apply dir " + applyDir + " is not writable");
    }
    try {
      new FileAssembler().assemble(manifest, source, applyDir, ProgressListener.NONE);
    } catch (IOException | RuntimeException e) {
      return Result.failed("assembly failed: " + e.getMessage());
    }
    String cmd = manifest.getInstallCommand();
    if (cmd.isBlank()) {
      return new Result(true, "", -1, "");
    }
    if (!allowInstall) {
      return new Result(true, "install command not run (allow-install-commands is off)", -1, "");
    }
    return runInstall(cmd, manifest);
  }

  private Result runInstall(String cmd, Manifest manifest) {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", cmd).directory(applyDir.toFile()).redirectErrorStream(true);
    pb.environment().put("PATCHMESH_CHANNEL", manifest.getChannel());
    pb.environment().put("PATCHMESH_VERSION", Long.toString(manifest.getVersion()));
    pb.environment().put("PATCHMESH_APPLY_DIR", applyDir.toString());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return Result.failed("install command could not start: " + e.getMessage());
    }
    Tail tail = new Tail(p.getInputStream());
    Thread reader = new Thread(tail, "install-output");
    reader.setDaemon(true);
    reader.start();
    try {
      if (!p.waitFor(installTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        reader.join(1000);
        return new Result(false, "install command timed out after " + installTimeout.toSeconds() + " s", -1, tail.text());
      }
      reader.join(1000);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return Result.failed("interrupted while installing");
    }
    int code = p.exitValue();
    return code == 0
        ? new Result(true, "", 0, tail.text())
        : new Result(false, "install command exited with " + code, code, tail.text());
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
