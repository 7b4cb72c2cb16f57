package io.patchmesh.apply;

import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Materializes a complete, verified manifest into the agent's apply directory
 * (atomic per file, every file hashed again, see {@link FileAssembler}) and
 * runs its install command only if this agent's config allows install
 * commands. The command runs in the apply directory through /bin/sh with a
 * timeout; its exit status and a bounded tail of its output go into status.
 *
 * <p>Files may have been written ahead ({@link #beginStaging}, {@link StagingWriter}); the apply
 * then only verifies and commits them, and falls back to a full assembly from the store if
 * anything about the staging is off.
 */
public final class PatchApplier {
  private static final Logger log = LoggerFactory.getLogger(PatchApplier.class);
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
  /**
   * Held while temp files are created or files assembled/committed: each of those first deletes
   * "stale" temp files in the apply dir, which must not be another live one's.
   */
  private final Object dirLock = new Object();
  private final java.util.concurrent.atomic.AtomicLong stagedCommits = new java.util.concurrent.atomic.AtomicLong();

  public PatchApplier(Path applyDir, boolean allowInstall, Duration installTimeout) {
    this.applyDir = applyDir;
    this.allowInstall = allowInstall;
    this.installTimeout = installTimeout;
  }

  public Result apply(Manifest manifest, ChunkSource source) {
    return apply(manifest, source, null);
  }

  /**
   * Creates the temp files of {@code manifest} in the apply dir, to be written ahead of
   * completion and handed to {@link #apply(Manifest, ChunkSource, StagingWriter)}.
   */
  public StagingWriter beginStaging(Manifest manifest, long forceEveryBytes) throws IOException {
    synchronized (dirLock) {
      return StagingWriter.open(new FileAssembler(), manifest, applyDir, forceEveryBytes);
    }
  }

  /**
   * Applies {@code manifest}: commits {@code staged} (nullable; closed here either way) if it
   * verifies, else assembles every file from {@code source}.
   */
  public Result apply(Manifest manifest, ChunkSource source, StagingWriter staged) {
    try {
      return applyChecked(manifest, source, staged);
    } finally {
      if (staged != null) {
        try {
          staged.close();
        } catch (IOException e) {
          log.warn("cannot clean up staged files: {}", e.getMessage());
        }
      }
    }
  }

  /** How many applies committed staged files (the rest assembled from the store). */
  public long stagedCommits() {
    return stagedCommits.get();
  }

  private Result applyChecked(Manifest manifest, ChunkSource source, StagingWriter staged) {
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
    synchronized (dirLock) {
      boolean done = false;
      if (staged != null) {
        try {
          staged.commit();
          done = true;
          stagedCommits.incrementAndGet();
        } catch (IOException | RuntimeException e) {
          log.warn("staged files not usable ({}); assembling from the store", e.getMessage());
        }
      }
      if (!done) {
        try {
          new FileAssembler().assemble(manifest, source, applyDir, ProgressListener.NONE);
        } catch (IOException | RuntimeException e) {
          return Result.failed("assembly failed: " + e.getMessage());
        }
      }
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
