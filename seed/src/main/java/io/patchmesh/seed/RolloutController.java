package io.patchmesh.seed;

import io.patchmesh.apply.RolloutGate;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Steers staged rollouts from a seed. Each second, for every manifest it
 * holds, it judges the open stage from the agents' reports: when every
 * admitted agent has applied it (failures under the manifest's threshold) the
 * next stage opens; when failures exceed the threshold the rollout halts on
 * its own. The operator can pause, resume (also a halted rollout) and abort;
 * those choices are durable in the seed's store. Decisions go to every linked
 * agent as {@link RolloutState} frames, which agents honour only from links
 * whose certificate grants the seed role.
 */
public final class RolloutController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RolloutController.class);

  /** The state of one manifest's rollout as the seed judges it. */
  public record View(String state, int stage, int stages, int openPercent, String reason, int admitted, int applied, int failed, boolean urgent) {}

  private final NodeRuntime node;
  private final StatusBoard board;
  private final ScheduledExecutorService timer;
  private final Map<ManifestId, Tracker> trackers = new HashMap<>();
  /** Stage rhythm by urgency (issue 18's hook: urgent rollouts do not wait on stragglers). */
  private static final io.patchmesh.seed.exposure.StageRhythm RHYTHM = io.patchmesh.seed.exposure.StageRhythm.DEFAULT;

  private static final class Tracker {
    final Manifest manifest;
    int stage;
    RolloutState.State state = RolloutState.State.ACTIVE;
    String reason = "";
    View view;
    /** When the current stage opened (this process's view; urgent rollouts open the next one after a while). */
    long stageOpenedMillis;

    Tracker(Manifest m) {
      this.manifest = m;
    }

    int stages() {
      return Math.max(1, manifest.getRollout().getStagePercentCount());
    }

    int openPercent() {
      return manifest.getRollout().getStagePercentCount() == 0 ? 100 : manifest.getRollout().getStagePercent(stage);
    }
  }

  public RolloutController(NodeRuntime node, StatusBoard board) {
    this.node = node;
    this.board = board;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "rollout-controller");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::tickSafely, 500, 1000, TimeUnit.MILLISECONDS);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warn("rollout controller: {}", e.toString());
    }
  }

  /** Judges every rollout and tells the agents. Public for tests that want no wait. */
  public synchronized void tick() {
    Map<String, Member> members = new HashMap<>();
    for (Member m : node.snapshot().members()) {
      members.put(m.info().id().hex(), m);
    }
    for (StoredManifest sm : node.store().manifests().list()) {
      Tracker t = tracker(sm.id());
      if (t == null) {
        continue;
      }
      judge(sm.id(), t, members);
      broadcast(sm.id(), t);
    }
  }

  private Tracker tracker(ManifestId id) {
    Tracker t = trackers.get(id);
    if (t != null) {
      return t;
    }
    Optional<SignedManifest> signed = node.store().manifests().get(id);
    if (signed.isEmpty()) {
      return null;
    }
    Manifest m;
    try {
      m = Manifest.parseFrom(signed.get().getManifest());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return null;
    }
    t = new Tracker(m);
    t.stageOpenedMillis = node.options().clock().millis();
    String saved = node.store().state().getString("rollout:" + id.hex());
    if (saved != null) {
      String[] parts = saved.split(":", 3);
      t.state = RolloutState.State.valueOf(parts[0]);
      t.stage = Math.min(Integer.parseInt(parts[1]), t.stages() - 1);
      t.reason = parts.length > 2 ? parts[2] : "";
    }
    trackers.put(id, t);
    return t;
  }

  private void judge(ManifestId id, Tracker t, Map<String, Member> members) {
    String hex = id.hex();
    int admitted = 0;
    int applied = 0;
    int failed = 0;
    int permille = t.openPercent() * 10;
    for (AgentRecord a : board.agents()) {
      Member m = members.get(a.nodeId());
      if (m != null && (m.status() == MemberStatus.DEAD || m.status() == MemberStatus.LEFT)) {
        continue;
      }
      ManifestStatus st = a.manifests().get(hex);
      if (st != null && st.getPhase() == ManifestPhase.PHASE_NOT_TARGETED) {
        continue;
      }
      if (RolloutGate.admission(NodeId.fromHex(a.nodeId()), id) >= permille) {
        continue;
      }
      admitted++;
      if (st != null && st.getPhase() == ManifestPhase.PHASE_APPLIED) {
        applied++;
      } else if (st != null && st.getPhase() == ManifestPhase.PHASE_FAILED) {
        failed++;
      }
    }
    int haltPermille = t.manifest.getRollout().getHaltFailurePermille();
    if (t.state == RolloutState.State.ACTIVE) {
      if (haltPermille > 0 && admitted > 0 && failed * 1000L > (long) haltPermille * admitted) {
        t.state = RolloutState.State.HALTED;
        t.reason = failed + " of " + admitted + " agents in stage " + (t.stage + 1) + " (" + t.openPercent()
            + "%) failed, over the " + haltPermille / 10.0 + "% threshold";
        log.warn("rollout {} halted: {}", id.shortHex(), t.reason);
        save(id, t);
      } else if ((admitted == applied + failed || RHYTHM.opensEarly(t.manifest, t.stageOpenedMillis, node.options().clock().millis()))
          && t.stage + 1 < t.stages() && t.manifest.getRollout().getStagePercentCount() > 0) {
        t.stage++;
        t.stageOpenedMillis = node.options().clock().millis();
        t.reason = "";
        log.info("rollout {}: stage {} of {} open ({}%)", id.shortHex(), t.stage + 1, t.stages(), t.openPercent());
        save(id, t);
      }
    }
    t.view = new View(stateName(t.state), t.stage, t.stages(), t.openPercent(), t.reason, admitted, applied, failed,
        io.patchmesh.seed.exposure.StageRhythm.urgent(t.manifest));
  }

  private void broadcast(ManifestId id, Tracker t) {
    Frame f = Frame.newBuilder()
        .setRolloutState(RolloutState.newBuilder()
            .setManifestId(id.toByteString())
            .setState(t.state)
            .setOpenPermille(t.state == RolloutState.State.ACTIVE ? t.openPercent() * 10 : 0)
            .setStage(t.stage)
            .setSeedTimeUnixMs(node.options().clock().millis())
            .setReason(t.reason.length() > 500 ? t.reason.substring(0, 500) : t.reason))
        .build();
    for (PeerLink l : node.transport().links()) {
      if (!l.roles().contains(Role.ROLE_SEED)) {
        l.sendControl(f);
      }
    }
  }

  private void save(ManifestId id, Tracker t) {
    node.store().state().putString("rollout:" + id.hex(), t.state.name() + ":" + t.stage + ":" + t.reason, true);
  }

  /** Operator action: pause, resume or abort. Empty if the manifest is unknown. */
  public synchronized Optional<View> steer(ManifestId id, String action) {
    Tracker t = tracker(id);
    if (t == null) {
      return Optional.empty();
    }
    switch (action) {
      case "pause" -> {
        if (t.state != RolloutState.State.ABORTED) {
          t.state = RolloutState.State.PAUSED;
          t.reason = "paused by the operator";
        }
      }
      case "resume" -> {
        if (t.state != RolloutState.State.ABORTED) {
          t.state = RolloutState.State.ACTIVE;
          t.reason = "";
        }
      }
      case "abort" -> {
        t.state = RolloutState.State.ABORTED;
        t.reason = "aborted by the operator";
      }
      default -> throw new IllegalArgumentException("unknown action " + action);
    }
    save(id, t);
    log.info("rollout {}: {} by the operator", id.shortHex(), action);
    Map<String, Member> members = new HashMap<>();
    for (Member m : node.snapshot().members()) {
      members.put(m.info().id().hex(), m);
    }
    judge(id, t, members);
    broadcast(id, t);
    return Optional.of(t.view);
  }

  /** The current view of one rollout, judging it now if never judged. */
  public synchronized Optional<View> view(ManifestId id) {
    Tracker t = tracker(id);
    if (t == null) {
      return Optional.empty();
    }
    if (t.view == null) {
      judge(id, t, new HashMap<>());
    }
    return Optional.of(t.view);
  }

  static Map<String, Object> describe(View v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", v.state());
    m.put("stage", v.stage() + 1);
    m.put("stages", v.stages());
    m.put("openPercent", v.openPercent());
    m.put("reason", v.reason());
    m.put("stageAdmitted", v.admitted());
    m.put("stageApplied", v.applied());
    m.put("stageFailed", v.failed());
    m.put("urgent", v.urgent());
    return m;
  }

  private static String stateName(RolloutState.State s) {
    return switch (s) {
      case ACTIVE -> "active";
      case PAUSED -> "paused";
      case HALTED -> "halted";
      case ABORTED -> "aborted";
      default -> "unknown";
    };
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
