package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.apply.BackgroundStaging;
import io.patchmesh.apply.Labels;
import io.patchmesh.apply.MaintenanceWindow;
import io.patchmesh.apply.PatchApplier;
import io.patchmesh.apply.RolloutGate;
import io.patchmesh.apply.TargetSelector;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.ChunkStaging;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * From a verified manifest to files on disk: whether this node wants it (targeting, superseded),
 * when it may apply it (its window and the manifest's, not-before, the seeds' rollout stage, pause
 * and clock), the apply itself on a worker, and the local phase of every manifest the status
 * reports. The files written during the download are {@link StagingControl}'s.
 *
 * <p>Loop only, except the last-apply figures (any thread).
 */
final class ApplyPipeline {
  private static final Logger log = LoggerFactory.getLogger(ApplyPipeline.class);

  private final NodeConfig config;
  private final RuntimeOptions options;
  private final NodeId id;
  private final NodeLoop loop;
  private final NodeStore store;
  private final NodeMetrics metrics;
  private final Swarm swarm;
  /** Null on nodes without an apply directory: they fetch and serve, never apply. */
  private final PatchApplier applier;
  private final MaintenanceWindow ownWindow;
  /** Seeds' rollout decisions (stages, pause, abort), from certified seed links only. */
  private final RolloutGate gate;
  private final StatusReporter status;
  /** Called after a successful apply (the software inventory lists what patchmesh installed). */
  private final Runnable appliedChanged;
  private final Map<ManifestId, LocalState> local = new HashMap<>();
  private final StagingControl staging;
  /** Applies in progress, recorded in the store (a crash during one is reported after the restart). */
  private final ApplyingMarks marks;
  /** Sends a status report now (loop only); completes true once it was written to a seed link. */
  private Supplier<CompletableFuture<Boolean>> reportNow =
      () -> CompletableFuture.completedFuture(false);
  /** Of the last apply: ms from its last chunk stored to the apply done (-1: none yet), and how. */
  private volatile long lastApplyTailMillis = -1;
  private volatile boolean lastApplyStaged;

  ApplyPipeline(NodeConfig config, RuntimeOptions options, NodeId id, NodeLoop loop, NodeStore store, NodeMetrics metrics,
      Swarm swarm, PatchApplier applier, MaintenanceWindow ownWindow, RolloutGate gate, StatusReporter status,
      Runnable appliedChanged) {
    this.config = config;
    this.options = options;
    this.id = id;
    this.loop = loop;
    this.store = store;
    this.metrics = metrics;
    this.swarm = swarm;
    this.applier = applier;
    this.ownWindow = ownWindow;
    this.gate = gate;
    this.status = status;
    this.appliedChanged = appliedChanged;
    this.staging = new StagingControl(options, applier, swarm, this);
    this.marks = new ApplyingMarks(store.state());
  }

  /** How to send a status report at once (the APPLYING report goes out before the apply starts). */
  void reportNow(Supplier<CompletableFuture<Boolean>> send) {
    this.reportNow = send;
  }

  StagingControl staging() {
    return staging;
  }

  /** The local phase of manifest {@code id}, created as KNOWN on first use. */
  LocalState state(ManifestId id) {
    return local.computeIfAbsent(id, k -> new LocalState());
  }

  /** The local phase of manifest {@code id}, or null if nothing was recorded for it yet. */
  LocalState stateIfAny(ManifestId id) {
    return local.get(id);
  }

  /** A manifest the cache dropped: its local phase goes with it. */
  void forget(ManifestId id) {
    local.remove(id);
  }

  /** True while an apply runs on a worker (its assembly clears stale temp files). */
  boolean applying() {
    for (LocalState ls : local.values()) {
      if (ls.applying) {
        return true;
      }
    }
    return false;
  }

  /** Restarts the sessions of the manifests stored in an earlier life (those that still verify). */
  void resumeStored(ManifestVerifier verifier, TrustedRoot root, Consumer<VerifiedManifest> held) {
    Instant now = options.clock().instant();
    for (StoredManifest sm : store.manifests().list()) {
      Optional<SignedManifest> signed = store.manifests().get(sm.id());
      if (signed.isEmpty()) {
        continue;
      }
      try {
        VerifiedManifest vm = verifier.verifyStored(signed.get(), root, now);
        held.accept(vm);
        String applied = store.state().getString("applied:" + vm.id().hex());
        LocalState ls = state(vm.id());
        boolean interrupted = marks.left(vm.id());
        if ("ok".equals(applied)) {
          ls.set(ManifestPhase.PHASE_APPLIED, "", options.clock().millis());
        } else if (interrupted) {
          interruptedApply(vm, ls);
        }
        if (interrupted) {
          marks.end(vm.id());
        }
        startSession(vm);
      } catch (VerificationException e) {
        log.warn("stored manifest {} no longer verifies: {}", sm.id().shortHex(), e.getMessage());
      }
    }
  }

  /**
   * An earlier life of this agent crashed (or its host went down) while it applied {@code vm}:
   * reported as applied if the switch and its install command had completed, else as failed
   * ("interrupted while applying"), and not applied again in this life.
   */
  private void interruptedApply(VerifiedManifest vm, LocalState ls) {
    boolean committed = applier != null && vm.id().hex().equals(applier.installedManifest(vm.channel()));
    String recovery = applier == null ? null : applier.lastRecovery();
    if (recovery != null && !recovery.startsWith(vm.channel() + " version " + vm.version() + " ")) {
      recovery = null; // the journal was another manifest's
    }
    ApplyingMarks.AfterCrash a = ApplyingMarks.afterCrash(committed, recovery);
    if (a.phase() == ManifestPhase.PHASE_APPLIED) {
      store.state().putString("applied:" + vm.id().hex(), "ok", true);
    }
    ls.set(a.phase(), a.reason(), options.clock().millis());
    ls.interruptedBefore = a.phase() == ManifestPhase.PHASE_FAILED;
    log.warn("{}: the last apply was interrupted (crash or restart); reported as {}: {}", vm,
        a.phase() == ManifestPhase.PHASE_APPLIED ? "applied" : "failed", a.reason());
  }

  /** Starts the swarm session of a verified manifest: fetched if wanted here, else only served. */
  void startSession(VerifiedManifest vm) {
    boolean wanted;
    LocalState ls = state(vm.id());
    if (options.isSeed()) {
      wanted = true;
    } else {
      wanted = TargetSelector.matches(Labels.target(vm.manifest().getRollout()), config.labels());
      if (!wanted) {
        ls.set(ManifestPhase.PHASE_NOT_TARGETED, "", options.clock().millis());
      } else if (superseded(vm)) {
        wanted = false;
        ls.set(ManifestPhase.PHASE_NOT_TARGETED, "superseded by a newer version", options.clock().millis());
      }
    }
    swarm.start(vm, wanted);
    status.changed();
  }

  /** True if a newer version of the channel is already held. */
  boolean superseded(VerifiedManifest vm) {
    for (TransferSession s : swarm.sessions()) {
      if (s.vm.channel().equals(vm.channel()) && s.vm.version() > vm.version()) {
        return true;
      }
    }
    return false;
  }

  void onSessionComplete(TransferSession s) {
    status.changed();
    LocalState ls = state(s.id);
    if (ls.phase == ManifestPhase.PHASE_APPLIED || ls.interruptedBefore) {
      return;
    }
    ls.set(ManifestPhase.PHASE_COMPLETE, "", options.clock().millis());
    ls.completedNanos = System.nanoTime();
    maybeApply(s, ls);
  }

  /** A seed's rollout state (the caller checked the sender is a seed); applies what it admits now. */
  void onRolloutState(RolloutState state, long nowMillis) {
    if (gate.onState(state, nowMillis)) {
      status.changed();
      retryWaiting();
    }
  }

  /** Tries again every manifest that is complete or waiting (for a window, a stage, a clock). */
  void retryWaiting() {
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = local.get(s.id);
      if (ls != null && (ls.phase == ManifestPhase.PHASE_WAITING || ls.phase == ManifestPhase.PHASE_COMPLETE)) {
        maybeApply(s, ls);
      }
    }
  }

  private void maybeApply(TransferSession s, LocalState ls) {
    if (options.isSeed() || applier == null || ls.applying || !s.complete() || !s.wanted) {
      return;
    }
    if (ls.phase == ManifestPhase.PHASE_APPLIED || ls.phase == ManifestPhase.PHASE_FAILED) {
      return;
    }
    String wait = applyWait(s);
    if (wait != null) {
      if (ls.phase != ManifestPhase.PHASE_WAITING || !wait.equals(ls.reason)) {
        ls.set(ManifestPhase.PHASE_WAITING, wait, options.clock().millis());
        status.changed();
      }
      return;
    }
    if (superseded(s.vm)) {
      ls.set(ManifestPhase.PHASE_NOT_TARGETED, "superseded by a newer version", options.clock().millis());
      return;
    }
    ls.applying = true;
    ChunkSource source = storeSource();
    BackgroundStaging handed = staging.takeFor(s.id);
    long completedNanos = ls.completedNanos;
    // seeds learn that the apply runs before it does: a canary that dies applying then counts as
    // failed in its stage instead of dropping out of it (RolloutController)
    ls.set(ManifestPhase.PHASE_APPLYING, "", options.clock().millis());
    status.changed();
    CompletableFuture<Boolean> reported = reportNow.get();
    loop.work(
        () -> {
          try {
            marks.begin(s.id);
          } catch (RuntimeException e) {
            log.warn("{}: cannot record the apply as in progress ({}); a crash during it goes unreported", s.vm, e.toString());
          }
          awaitReport(s.vm, reported);
          long t0 = System.nanoTime();
          ChunkStaging w = null;
          if (handed != null) {
            try {
              w = handed.handOver().get(10, TimeUnit.MINUTES);
            } catch (Exception e) {
              log.warn("{}: staging did not finish ({}); assembling from the store", s.vm, e.toString());
              handed.discard();
            }
          }
          long t1 = System.nanoTime();
          long stagedBefore = applier.stagedCommits();
          PatchApplier.Result r = applier.apply(s.vm, source, w);
          long t2 = System.nanoTime();
          boolean committedStaged = applier.stagedCommits() > stagedBefore;
          long tail = completedNanos == 0 ? -1 : (t2 - completedNanos) / 1_000_000;
          lastApplyStaged = committedStaged;
          lastApplyTailMillis = tail;
          log.info("{}: apply {} in {} ms ({} ms finishing the staging), {} ms after the last chunk was stored",
              s.vm, committedStaged ? "committed staged files" : "assembled from the store",
              (t2 - t0) / 1_000_000, (t1 - t0) / 1_000_000, tail);
          if (r.ok()) {
            store.state().putString("applied:" + s.id.hex(), "ok", true);
          }
          if (!Thread.currentThread().isInterrupted()) {
            marks.end(s.id);
          } // else the node is shutting down and this result is never reported: the next start reports the apply interrupted
          loop.execute(
              () -> {
                ls.applying = false;
                ls.installExit = r.exitCode();
                ls.outputTail = r.outputTail();
                ls.set(r.ok() ? ManifestPhase.PHASE_APPLIED : ManifestPhase.PHASE_FAILED, r.reason(), options.clock().millis());
                metrics.applyResult(r.ok());
                status.changed();
                if (r.ok()) {
                  appliedChanged.run();
                  log.info("{}: applied to {}", s.vm, config.applyDir());
                } else {
                  log.warn("{}: apply failed: {}", s.vm, r.reason());
                }
              });
        });
  }

  /** Waits, briefly and at most {@link ApplyingMarks#REPORT_WAIT_MILLIS}, for the APPLYING report to reach a seed link. */
  private static void awaitReport(VerifiedManifest vm, CompletableFuture<Boolean> reported) {
    boolean written = false;
    try {
      written = reported.get(ApplyingMarks.REPORT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      written = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!written) {
      log.info("{}: applying without a seed having been told first (no seed link took the report)", vm);
    }
  }

  /** The store's chunks (the staging writes a version's files as its file segments). */
  io.patchmesh.store.ChunkStore chunkStore() {
    return store.chunks();
  }

  /** Reads chunks back from the store for assembly and staging (verified when they were stored). */
  ChunkSource storeSource() {
    return cid -> {
      byte[] b = store.chunks().get(cid);
      if (b == null) {
        throw new MissingChunkException(cid, "chunk " + cid.shortHex() + " is missing from the store");
      }
      return b;
    };
  }

  /**
   * Why this agent may not apply {@code s} now (its window, not-before, rollout stage, pause, an
   * unknown seed clock), or null if it may once the chunks are there.
   */
  String applyWait(TransferSession s) {
    Manifest m = s.vm.manifest();
    Instant now = Instant.ofEpochMilli(gate.judgeTimeMillis(options.clock().millis()));
    boolean timed = !m.getRollout().getWindow().isBlank() || m.getRollout().getNotBeforeUnix() > 0;
    // a timed manifest is judged against a seed's clock when ours is off, so learn it first
    // (seeds broadcast it every second)
    // an operator's window override (from a certified seed) lifts windows, never the stage gate below
    boolean overridden = gate.windowOverridden(s.id, options.clock().millis());
    String wait = timed && !gate.clockKnown() ? "verified, waiting for a seed's clock to judge the window" : waitReason(m, now, overridden);
    if (wait == null) {
      RolloutGate.Decision d = gate.decide(m, s.id, id);
      if (!d.apply()) {
        wait = d.reason();
      }
    }
    if (wait != null && gate.skewed()) {
      wait = wait + " (this clock is " + (-gate.skewMillis() / 1000) + " s off the seed's; windows judged by the seed's)";
    }
    return wait;
  }

  /** Why a complete manifest may not be applied now, or null if it may. */
  private String waitReason(Manifest m, Instant now, boolean windowOverridden) {
    if (m.getRollout().getNotBeforeUnix() > 0 && now.getEpochSecond() < m.getRollout().getNotBeforeUnix()) {
      return "verified, waiting for not-before " + Instant.ofEpochSecond(m.getRollout().getNotBeforeUnix());
    }
    String spec = m.getRollout().getWindow();
    // an urgent fix on an agent whose policy says "urgent: apply" does not wait for windows, nor
    // does any agent while an operator's window override lasts
    boolean urgentApply = windowOverridden || m.hasFixes() && m.getFixes().getUrgent() && "apply".equals(config.urgent());
    if (!spec.isBlank() && !urgentApply) {
      MaintenanceWindow w;
      try {
        w = MaintenanceWindow.parse(spec);
      } catch (UserInputException e) {
        return "manifest window cannot be parsed: " + spec;
      }
      if (!w.isOpen(now)) {
        return "verified, waiting for window " + w;
      }
    }
    if (!ownWindow.isOpen(now) && !urgentApply) {
      return "verified, waiting for window " + ownWindow + (m.hasFixes() && m.getFixes().getUrgent() ? " (urgent, but this agent's policy is urgent: wait)" : "");
    }
    return null;
  }

  /**
   * What patchmesh installed here, for the software inventory (loop only): each channel at its
   * newest applied version, and each file of it as CHANNEL/PATH at "vVERSION".
   */
  Map<String, String> appliedChannels() {
    Map<String, VerifiedManifest> newest = new HashMap<>();
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = local.get(s.id);
      if (ls != null && ls.phase == ManifestPhase.PHASE_APPLIED) {
        newest.merge(s.vm.channel(), s.vm, (a, b) -> a.version() >= b.version() ? a : b);
      }
    }
    Map<String, String> out = new TreeMap<>();
    for (VerifiedManifest vm : newest.values()) {
      out.put(vm.channel(), Long.toString(vm.version()));
      vm.manifest().getFilesList().stream().limit(1000) // bounded: the inventory is bounded too
          .forEach(f -> out.put(vm.channel() + "/" + f.getPath(), "v" + vm.version()));
    }
    return out;
  }

  long lastApplyTailMillis() {
    return lastApplyTailMillis;
  }

  boolean lastApplyStaged() {
    return lastApplyStaged;
  }
}
