package io.patchmesh.runtime;

import io.patchmesh.apply.BackgroundStaging;
import io.patchmesh.apply.PatchApplier;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.trust.ManifestId;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one manifest whose files are written while it downloads (see {@link BackgroundStaging}), if
 * any: only a wanted manifest this agent would apply right now (targeted, admitted by the rollout
 * gate, windows open), so nothing touches the apply dir earlier than the apply would. Dropped (temp
 * files deleted) as soon as that stops being true; handed to the apply when its chunks are all there.
 *
 * <p>Loop only, except {@link #close} and {@link #abandon} (after the loop stopped).
 */
final class StagingControl {
  private static final Logger log = LoggerFactory.getLogger(StagingControl.class);
  /**
   * Off switch for staging ({@code -Dpatchmesh.staging=off}), to measure the apply tail without it;
   * on by default.
   */
  private static final boolean STAGING_ENABLED = !"off".equals(System.getProperty("patchmesh.staging"));

  private final RuntimeOptions options;
  private final PatchApplier applier;
  private final Swarm swarm;
  private final ApplyPipeline apply;
  private BackgroundStaging staging;
  private ManifestId stagingId;

  StagingControl(RuntimeOptions options, PatchApplier applier, Swarm swarm, ApplyPipeline apply) {
    this.options = options;
    this.applier = applier;
    this.swarm = swarm;
    this.apply = apply;
  }

  /**
   * Chunk {@code idx} of session {@code s} was stored: the staging writes it if it is this
   * manifest's, from {@code verified} (the bytes just stored) when given and of that chunk.
   */
  void onChunkStored(TransferSession s, int idx, SwarmDriver.Verified verified) {
    if (staging != null && s.id.equals(stagingId)) {
      if (staging.storeWrote(idx)) {
        return; // the store wrote it into the version's file segment as it stored it
      }
      if (verified != null) {
        staging.offer(idx, verified.id(), verified.bytes());
      } else {
        staging.offer(idx);
      }
    }
  }

  /**
   * The staging of manifest {@code id} for its apply (null if it has none). Another manifest's
   * staging is dropped: the apply's assembly would delete its staged files.
   */
  BackgroundStaging takeFor(ManifestId id) {
    if (staging != null && id.equals(stagingId)) {
      BackgroundStaging st = staging;
      staging = null;
      stagingId = null;
      return st;
    }
    if (staging != null) {
      drop("another manifest applies first");
    }
    return null;
  }

  /** Starts, keeps or drops the staging (called every status tick). */
  void update() {
    if (options.isSeed() || applier == null || !STAGING_ENABLED) {
      return;
    }
    if (staging != null) {
      Optional<TransferSession> s = swarm.session(stagingId);
      if (s.isEmpty()) {
        drop("manifest forgotten");
      } else if (apply.superseded(s.get().vm)) {
        drop("superseded");
      } else {
        String wait = apply.applyWait(s.get());
        if (wait != null) {
          drop(wait);
        }
      }
      return;
    }
    if (apply.applying()) {
      return; // its assembly clears stale temp files: start after it
    }
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = apply.stateIfAny(s.id);
      if (!s.wanted || s.complete() || ls == null
          || ls.phase == ManifestPhase.PHASE_APPLIED || ls.phase == ManifestPhase.PHASE_FAILED
          || ls.phase == ManifestPhase.PHASE_NOT_TARGETED
          || apply.superseded(s.vm) || apply.applyWait(s) != null) {
        continue;
      }
      if (s.have() * 2L > s.table.count()) {
        // Mostly held already (a small v2, a resume near the end): the download is short, so
        // staging would write nearly every byte from the store and then read it all back at the
        // commit — more work than one assembly at completion, measured on a 2% v2 of 256 MB.
        continue;
      }
      int[] held = new int[s.have()];
      int n = 0;
      for (int i = s.mine.nextSetFrom(0); i >= 0 && n < held.length; i = s.mine.nextSetFrom(i + 1)) {
        held[n++] = i;
      }
      stagingId = s.id;
      io.patchmesh.proto.Manifest m = s.vm.manifest();
      io.patchmesh.store.ChunkStore chunks = apply.chunkStore();
      staging = BackgroundStaging.start(s.vm.toString(),
          () -> applier.beginStaging(m, StagingWriter.FORCE_EVERY_BYTES, chunks), m, apply.storeSource(),
          Arrays.copyOf(held, n));
      log.info("{}: staging files while chunks arrive ({} of {} held)", s.vm, n, s.table.count());
      return;
    }
  }

  private void drop(String why) {
    log.info("{}: staging dropped, temp files deleted: {}", stagingId.shortHex(), why);
    staging.discard();
    staging = null;
    stagingId = null;
  }

  /** At a clean stop, after the loop stopped (no one else touches the field now). */
  void close() {
    if (staging != null) {
      staging.close();
    }
  }

  /** At a simulated crash: temp files stay, as after a crash. */
  void abandon() {
    if (staging != null) {
      staging.abandon();
    }
  }
}
