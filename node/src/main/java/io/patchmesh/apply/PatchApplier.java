package io.patchmesh.apply;

import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.content.ChunkStaging;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.store.StateStore;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a complete, verified manifest to the agent's apply directory like a patch manager: the
 * channel's new version replaces its previous one all at once (files written, files the new
 * version dropped deleted), or not at all; see {@link VersionSwitch}. Before anything is written
 * the applier checks again, where it writes, what verification already checked: the manifest is
 * not expired (it may have waited for its window), every file lies within the paths of the rule
 * that authorized it; and what only the agent knows: no file belongs to another channel, none was
 * put there by someone else ({@link FileOwnership}). A file that already holds exactly the bytes
 * the manifest names is adopted. The install command runs only if both the publisher rule
 * ({@code install: true}) and this agent's config allow it ({@link InstallHook}); if it fails, the
 * previous version's files are put back.
 *
 * <p>Files may have been written ahead ({@link #beginStaging}, {@link StagingWriter}); the apply
 * then only verifies and switches them in, and falls back to a full assembly from the store if
 * anything about the staging is off.
 *
 * <p>Thread-safe: applies (and staging's temp file creation) are serialized on one lock.
 */
public final class PatchApplier {
  private static final Logger log = LoggerFactory.getLogger(PatchApplier.class);
  /** Output kept for status, so a chatty installer cannot bloat reports. */
  public static final int OUTPUT_TAIL_BYTES = InstallHook.OUTPUT_TAIL_BYTES;
  /** Default agent-side maximum of an install command's run time. */
  public static final Duration DEFAULT_INSTALL_TIMEOUT = Duration.ofMinutes(30);

  /**
   * What happened. {@code exitCode} is -1 when no command ran; {@code rolledBack} says the
   * previous version's files were put back.
   */
  public record Result(boolean ok, String reason, int exitCode, String outputTail, boolean rolledBack) {
    public Result(boolean ok, String reason, int exitCode, String outputTail) {
      this(ok, reason, exitCode, outputTail, false);
    }

    static Result failed(String reason) {
      return new Result(false, reason, -1, "", false);
    }
  }

  private final Path applyDir;
  private final boolean allowInstall;
  private final Duration installTimeoutMax;
  private final Clock clock;
  private final FileOwnership ownership;
  private final StateStore state;
  /**
   * Held while temp files are created or versions switched: each of those first deletes
   * "stale" temp files in the apply dir, which must not be another live one's.
   */
  private final Object dirLock = new Object();
  private final java.util.concurrent.atomic.AtomicLong stagedCommits = new java.util.concurrent.atomic.AtomicLong();
  private volatile String lastRecovery;

  /**
   * @param state where file ownership and the apply journal live (the node's store)
   * @param installTimeoutMax an install command never runs longer than this, whatever its manifest says
   */
  public PatchApplier(Path applyDir, boolean allowInstall, Duration installTimeoutMax, StateStore state, Clock clock) {
    this.applyDir = applyDir.toAbsolutePath();
    this.allowInstall = allowInstall;
    this.installTimeoutMax = installTimeoutMax;
    this.clock = clock;
    this.state = state;
    this.ownership = new FileOwnership(state);
  }

  /**
   * Finishes or undoes an apply a crash interrupted, and deletes temp files and backups left in
   * the apply dir. Call once at start, before anything is staged. Returns what it did (null:
   * nothing was pending).
   */
  public String recover() throws IOException {
    synchronized (dirLock) {
      if (!Files.isDirectory(applyDir)) {
        return null;
      }
      lastRecovery = new VersionSwitch(applyDir.toRealPath(), state, ownership).recover();
      return lastRecovery;
    }
  }

  /** What {@link #recover()} did at this start (null: nothing was pending), for the status of the manifest it concerned. */
  public String lastRecovery() {
    return lastRecovery;
  }

  /** The id (hex) of the manifest whose files {@code channel} holds in the apply dir now, or null. */
  public String installedManifest(String channel) {
    synchronized (dirLock) {
      FileOwnership.Owned o = ownership.of(channel);
      return o == null ? null : o.manifestId();
    }
  }

  public Result apply(VerifiedManifest vm, ChunkSource source) {
    return apply(vm, source, null);
  }

  /**
   * Creates the temp files of {@code manifest} in the apply dir, to be written ahead of
   * completion and handed to {@link #apply(VerifiedManifest, ChunkSource, ChunkStaging)}.
   */
  public StagingWriter beginStaging(Manifest manifest, long forceEveryBytes) throws IOException {
    synchronized (dirLock) {
      return StagingWriter.open(new FileAssembler(), manifest, applyDir, forceEveryBytes);
    }
  }

  /**
   * Off switch for writing staged files as the store's file segments ({@code
   * -Dpatchmesh.fileSegments=off}): temp files beside the store's segments, as before BENCHMARKS 13ak.
   */
  private static final boolean FILE_SEGMENTS = !"off".equals(System.getProperty("patchmesh.fileSegments"));

  /**
   * Begins staging {@code manifest} as {@code chunks}' own file segments, hard-linked into the apply
   * dir at the commit, so each received chunk is written once ({@link io.patchmesh.store.FileStaging});
   * where the store cannot hard-link into the apply dir (another file system: EXDEV), temp files as
   * {@link #beginStaging(Manifest, long)}.
   */
  public ChunkStaging beginStaging(Manifest manifest, long forceEveryBytes, io.patchmesh.store.ChunkStore chunks)
      throws IOException {
    synchronized (dirLock) {
      if (chunks != null && FILE_SEGMENTS) {
        Files.createDirectories(applyDir);
        if (chunks.canLinkInto(applyDir.toRealPath())) {
          return chunks.stageFiles(manifest, applyDir);
        }
      }
      return StagingWriter.open(new FileAssembler(), manifest, applyDir, forceEveryBytes);
    }
  }

  /**
   * Applies {@code vm}: switches in {@code staged} (nullable; closed here either way) if it
   * verifies, else files assembled from {@code source}.
   */
  public Result apply(VerifiedManifest vm, ChunkSource source, ChunkStaging staged) {
    try {
      return applyChecked(vm, source, staged);
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

  /** The channel and version that installed {@code path} (a manifest path), or null. */
  public String ownerOf(String path) {
    synchronized (dirLock) {
      String c = ownership.ownerOf(path);
      return c == null ? null : c + " version " + ownership.of(c).version();
    }
  }

  private Result applyChecked(VerifiedManifest vm, ChunkSource source, ChunkStaging staged) {
    Manifest m = vm.manifest();
    String name = vm.channel() + " version " + vm.version();
    Instant expires = Instant.ofEpochSecond(m.getExpiresUnix());
    if (!clock.instant().isBefore(expires)) {
      return Result.failed(name + " expired at " + expires + " before it could be applied; not applied");
    }
    if (io.patchmesh.content.PathRules.controlCharacter(vm.channel()) != null) {
      return Result.failed("channel name has control characters; not applied");
    }
    for (FileEntry f : m.getFilesList()) {
      if (!vm.policy().mayWrite(f.getPath())) {
        return Result.failed(name + ": file " + f.getPath() + " is outside the paths of publisher rule "
            + vm.policy().label() + " " + vm.policy().scopes() + "; not applied");
      }
    }
    try {
      Files.createDirectories(applyDir);
    } catch (IOException e) {
      return Result.failed("apply dir " + applyDir + " is missing and cannot be created: " + e.getMessage());
    }
    if (!Files.isWritable(applyDir)) {
      return Result.failed("apply dir " + applyDir + " is not writable");
    }
    synchronized (dirLock) {
      Path root;
      try {
        root = applyDir.toRealPath();
      } catch (IOException e) {
        return Result.failed("apply dir " + applyDir + ": " + e.getMessage());
      }
      FileOwnership.Owned before = ownership.of(vm.channel());
      List<String> newPaths = m.getFilesList().stream().map(FileEntry::getPath).toList();
      String clash;
      try {
        clash = new OwnershipCheck(root, ownership).clash(vm.channel(), name, m);
      } catch (IOException e) {
        return Result.failed("cannot inspect the apply dir: " + e.getMessage());
      }
      if (clash != null) {
        return Result.failed(clash + "; not applied");
      }
      Set<String> keep = new HashSet<>(newPaths);
      List<String> dropped = before == null ? List.of()
          : before.paths().stream().filter(p -> !keep.contains(p)).toList();
      VersionSwitch sw = new VersionSwitch(root, state, ownership);
      List<String> createdDirs = sw.missingDirectories(newPaths);
      List<FileAssembler.Staged> files = null;
      if (staged != null) {
        try {
          files = staged.verify();
          stagedCommits.incrementAndGet();
        } catch (IOException | RuntimeException e) {
          log.warn("staged files not usable ({}); assembling from the store", e.getMessage());
        }
      }
      if (files == null) {
        try {
          files = new FileAssembler().stageAll(m, source, root, ProgressListener.NONE);
        } catch (IOException | RuntimeException e) {
          return Result.failed("assembly failed: " + e.getMessage() + "; nothing changed");
        }
      }
      String previous = before == null ? "the files before it" : "version " + before.version() + "'s files";
      VersionSwitch.Journal[] journal = new VersionSwitch.Journal[1];
      try {
        sw.switchTo(vm.channel(), vm.version(), vm.id().hex(), files, newPaths, dropped, createdDirs, journal);
      } catch (IOException | RuntimeException e) {
        String undo = undo(sw, journal[0], files);
        return new Result(false, "switching files failed: " + e.getMessage() + "; " + undo, -1, "", journal[0] != null);
      }
      Result hook = runInstall(vm, root, before == null ? 0 : before.version());
      if (!hook.ok()) {
        String undo = undo(sw, journal[0], files);
        return new Result(false, hook.reason() + "; " + undo.replace("the previous files", previous),
            hook.exitCode(), hook.outputTail(), true);
      }
      try {
        sw.commit(journal[0], newPaths);
      } catch (IOException | RuntimeException e) {
        // the journal stays: the next start finishes (ownership written) or undoes it
        return new Result(false, "cannot record the new version: " + e.getMessage(), hook.exitCode(), hook.outputTail(), false);
      }
      if (!dropped.isEmpty()) {
        log.info("{}: deleted {} file(s) the previous version had and this one lacks", name, dropped.size());
      }
      return hook;
    }
  }

  /** Rolls back a switch (if it began) and deletes leftover temp files; says what happened. */
  private static String undo(VersionSwitch sw, VersionSwitch.Journal j, List<FileAssembler.Staged> files) {
    try {
      FileAssembler.deleteTemps(files);
      if (j == null) {
        sw.discardBackups();
        return "nothing changed";
      }
      sw.rollBack(j);
      return "rolled back to the previous files";
    } catch (IOException | RuntimeException e) {
      log.error("roll-back failed; the next start retries it from the journal", e);
      return "roll-back failed (" + e.getMessage() + "), retried at the next start";
    }
  }

  private Result runInstall(VerifiedManifest vm, Path root, long previousVersion) {
    Manifest manifest = vm.manifest();
    String cmd = manifest.getInstallCommand();
    if (cmd.isBlank()) {
      return new Result(true, "", -1, "");
    }
    if (!vm.policy().install()) {
      return new Result(true, "install command not run (publisher rule " + vm.policy().label()
          + " does not allow install commands)", -1, "");
    }
    if (!allowInstall) {
      return new Result(true, "install command not run (allow-install-commands is off)", -1, "");
    }
    Duration timeout = installTimeoutMax;
    long asked = Integer.toUnsignedLong(manifest.getInstallTimeoutSeconds());
    if (asked > 0 && asked < installTimeoutMax.toSeconds()) {
      timeout = Duration.ofSeconds(asked);
    }
    InstallHook.Outcome o;
    try {
      o = InstallHook.run(cmd, root, InstallHook.environment(root, vm.channel(), vm.version(), vm.id().hex(), previousVersion), timeout);
    } catch (IOException e) {
      return Result.failed("install command could not start: " + e.getMessage());
    }
    if (o.startError() != null) {
      return new Result(false, o.startError(), -1, o.outputTail());
    }
    if (o.timedOut()) {
      return new Result(false, "install command timed out after " + timeout.toSeconds() + " s (its process group was killed)",
          -1, o.outputTail());
    }
    return o.exitCode() == 0
        ? new Result(true, "", 0, o.outputTail())
        : new Result(false, "install command exited with " + o.exitCode(), o.exitCode(), o.outputTail());
  }
}
