package io.patchmesh.seed;

import io.patchmesh.apply.RolloutGate;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.cluster.ApplyingVouches;
import io.patchmesh.seed.cluster.ApplyingVouches.Heard;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.RolloutStore;
import io.patchmesh.seed.cluster.StageTally;
import io.patchmesh.seed.exposure.StageRhythm;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Steers staged rollouts from a seed. Each second, for every manifest it
 * holds, it tallies the agents admitted to the open stage from facts it
 * authenticated itself, shares that tally through its {@link RolloutStore},
 * and — if it steers (always alone; in a cluster only as the leader with a
 * live ZooKeeper session) — lets {@link RolloutJudge} decide from the
 * cluster-wide tally: next stage or halt, written as a compare-and-set so a
 * stage is opened at most once. Operators pause, resume and abort through any
 * seed. The current record goes to every linked agent as {@link RolloutState}
 * frames, which agents honour only from links whose certificate grants the
 * seed role.
 *
 * <p>Facts: an agent counts by its own latest report (its site is the one in
 * the certificate of the link the report came over, see NodeRuntime) and by
 * this seed's own link to it; one linked with no report yet counts as pending
 * under its link's site ({@link StageCensus}). What other nodes gossip about an agent (dead,
 * left) changes nothing here: an admitted agent leaves the tally only when
 * this seed has no link to it and has not heard from it for {@link
 * #GONE_AFTER_MILLIS} — and not even then if its latest report said it was
 * applying: it counts as failed ({@link StageCount}), unless another live seed of the cluster
 * still hears from it: then as that seed counts it ({@link StageVouching}).
 */
public final class RolloutController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RolloutController.class);
  /** An agent with no link to this seed and no report for this long no longer holds its stage up. */
  static final long GONE_AFTER_MILLIS = StageCount.GONE_AFTER_MILLIS;
  /** How long a stage that looks empty waits for a first report before it counts as empty (two status intervals). */
  static final long EMPTY_STAGE_GRACE_MILLIS = 10_000;

  /**
   * The state of one manifest's rollout as the seed judges it.
   *
   * @param control why this seed does not steer now ("" when it does), e.g. no ZooKeeper session
   * @param urgent the manifest is marked urgent: its stages open on {@link StageRhythm}'s shorter rhythm
   * @param windowOverrideUntilMillis until when admitted agents apply outside their windows (0 = no override)
   */
  public record View(String state, int stage, int stages, int openPercent, String reason, int admitted, int applied,
      int failed, String control, boolean urgent, long windowOverrideUntilMillis) {}

  /**
   * This seed's tally of a stage; how many of its failures are agents silent while applying; how
   * many agents silent here while applying other seeds vouch for (counted as those seeds say); and
   * the candidates it names to the other seeds ({@link StageVouching}).
   */
  record OwnTally(StageTally tally, int silentApplying, int vouched, List<String> candidates) {}

  /** Stage rhythm by urgency (issue 18): urgent rollouts do not wait on stragglers. */
  private static final StageRhythm RHYTHM = StageRhythm.DEFAULT;

  /**
   * When this seed first saw a rollout at its current stage: the urgent rhythm's clock only for
   * records written by older seeds, which carry no stage-open time.
   */
  private record StageSeen(int stage, long sinceMillis) {}

  private final NodeRuntime node;
  private final StatusBoard board;
  private final RolloutStore store;
  private final ScheduledExecutorService timer;
  private final Map<ManifestId, Rollout> plans = new HashMap<>();
  private final Map<ManifestId, View> views = new HashMap<>();
  private final Map<ManifestId, Boolean> urgent = new HashMap<>();
  private final Map<ManifestId, StageSeen> stageSeen = new HashMap<>();
  private final Map<ManifestId, Integer> lastVouched = new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicLong ticks = new AtomicLong();
  private final AtomicLong decisions = new AtomicLong();
  /** Who heard which state: a state goes out when it changes, to new links, and every 30 s. */
  private final RolloutBeacon beacon = new RolloutBeacon();

  public RolloutController(NodeRuntime node, StatusBoard board, RolloutStore store) {
    this.node = node;
    this.board = board;
    this.store = store;
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
    Map<NodeId, String> linked = linkedAgents();
    Set<ManifestId> live = new HashSet<>();
    for (StoredManifest sm : node.store().manifests().list()) {
      live.add(sm.id());
      Rollout plan = plan(sm.id());
      if (plan == null) {
        continue;
      }
      Optional<RolloutRecord> rec = store.createIfAbsent(sm.id(), RolloutRecord.initial(node.options().clock().millis()));
      RolloutRecord r = rec.or(() -> store.read(sm.id())).orElse(null);
      if (r == null) {
        continue; // never stored and the store cannot be written now: nothing to steer or send yet
      }
      r = judge(sm.id(), plan, r, linked);
      if (store.notCommandable().isEmpty()) {
        // a seed cut off from the cluster's store says nothing: its record may be outdated, and
        // agents take the newest state they hear from any seed
        broadcast(sm.id(), plan, r);
      }
    }
    beacon.retain(live);
    lastVouched.keySet().retainAll(live);
    ticks.incrementAndGet();
  }

  private Rollout plan(ManifestId id) {
    Rollout p = plans.get(id);
    if (p != null) {
      return p;
    }
    Optional<SignedManifest> signed = node.store().manifests().get(id);
    if (signed.isEmpty()) {
      return null;
    }
    try {
      Manifest m = Manifest.parseFrom(signed.get().getManifest());
      p = m.getRollout();
      urgent.put(id, StageRhythm.urgent(m));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return null;
    }
    plans.put(id, p);
    return p;
  }

  /** The agents (not seeds) this seed has a link to, each with its link's site (with TLS, one its certificate permits). */
  private Map<NodeId, String> linkedAgents() {
    Map<NodeId, String> out = new HashMap<>();
    for (PeerLink l : node.transport().links()) {
      if (!l.roles().contains(Role.ROLE_SEED)) {
        out.put(l.peerId(), l.site());
      }
    }
    return out;
  }

  /**
   * Whether any agent on this seed's board has reported {@code id} at all. A stage with no admitted
   * agent opens the next one at once only on that evidence (or after {@link #EMPTY_STAGE_GRACE_MILLIS}):
   * right after a publish, or after a seed restart, no report is in yet and every stage looks empty,
   * so the controller would otherwise open them all before a single canary was heard from. (Canaries
   * linked to this seed already hold their stage as pending, {@link StageCensus}; the grace covers
   * those not linked yet, e.g. after a seed restart.)
   */
  private boolean anyAgentReported(ManifestId id) {
    String hex = id.hex();
    for (AgentRecord a : board.agents()) {
      if (a.manifests().containsKey(hex)) {
        return true;
      }
    }
    return false;
  }

  /** This seed's own tally of the agents admitted to {@code stage}. */
  StageTally ownTally(ManifestId id, Rollout plan, int stage, Map<NodeId, String> linked) {
    return ownCount(id, plan, stage, linked).tally();
  }

  /**
   * This seed's own tally of the agents admitted to {@code stage}, by {@link StageCensus}: one gone
   * by our own observation (no link, no report) leaves it unless it went silent while applying,
   * which counts as failed; one linked with no report yet is pending. The shared tally carries it among the failures (its format unchanged,
   * so seeds of older versions in the cluster still read it).
   */
  OwnTally ownCount(ManifestId id, Rollout plan, int stage, Map<NodeId, String> linked) {
    return ownCount(id, plan, stage, linked, Map.of());
  }

  /** As above, with what the cluster's other seeds vouch for ({@link StageVouching}). */
  OwnTally ownCount(ManifestId id, Rollout plan, int stage, Map<NodeId, String> linked, Map<String, Heard> vouched) {
    int permille = RolloutJudge.openPercent(plan, stage) * 10;
    return StageCensus.count(stage, id.hex(), board.agents(), linked, agent -> RolloutGate.admission(agent, id) < permille,
        vouched, node.options().clock().millis());
  }

  /**
   * Shares this seed's candidates silent while applying, and which of the other seeds' candidates it
   * hears from itself ({@link StageVouching}): the board is read only when another seed names one.
   */
  private void shareVouches(ManifestId id, OwnTally own, List<ApplyingVouches> others, Map<NodeId, String> linked) {
    Map<String, Heard> heard = Map.of();
    if (others.stream().anyMatch(v -> !v.candidates().isEmpty())) {
      Set<String> linkedHex = new HashSet<>();
      linked.keySet().forEach(n -> linkedHex.add(n.hex()));
      heard = StageVouching.heard(others, StageVouching.byId(board.agents()), linkedHex, id.hex(), node.options().clock().millis());
    }
    store.publishVouches(id, new ApplyingVouches(own.candidates(), heard));
  }

  /** How many of this seed's candidates silent while applying other seeds heard from at the last judgement (tests). */
  int vouched(ManifestId id) {
    return lastVouched.getOrDefault(id, 0);
  }

  private RolloutRecord judge(ManifestId id, Rollout plan, RolloutRecord r, Map<NodeId, String> linked) {
    List<ApplyingVouches> others = store.othersVouches(id);
    Map<String, Heard> vouched = ApplyingVouches.merged(others);
    OwnTally census = ownCount(id, plan, r.stage(), linked, vouched);
    StageTally own = census.tally();
    store.publishTally(id, own);
    shareVouches(id, census, others, linked);
    lastVouched.put(id, (int) census.candidates().stream().filter(vouched::containsKey).count());
    Optional<String> notSteering = store.notSteering();
    Optional<StageTally> total = store.clusterTally(id, own);
    boolean isUrgent = urgent.getOrDefault(id, false);
    long now = node.options().clock().millis();
    StageSeen seen = stageSeen.get(id);
    if (seen == null || seen.stage() != r.stage()) {
      seen = new StageSeen(r.stage(), now);
      stageSeen.put(id, seen);
    }
    boolean openEarly = RolloutJudge.opensEarly(RHYTHM, isUrgent, r, seen.sinceMillis(), now);
    long opened = r.stageOpenedMillis() > 0 ? r.stageOpenedMillis() : seen.sinceMillis();
    boolean unheard = total.isPresent() && total.get().admitted() == 0 && !anyAgentReported(id)
        && now - opened < EMPTY_STAGE_GRACE_MILLIS;
    if (notSteering.isEmpty() && total.isPresent() && !unheard) {
      RolloutRecord next = RolloutJudge.next(plan, r, total.get(), openEarly, now);
      if (!next.sameAs(r)) {
        Optional<RolloutRecord> written = store.decide(id, r, next);
        if (written.isPresent()) {
          decisions.incrementAndGet();
          logDecision(id, plan, next);
          r = written.get();
        }
      }
    }
    int stage = r.stage();
    StageTally shown = total.filter(t -> t.stage() == stage).orElse(own);
    if (shown.stage() != stage) {
      shown = ownCount(id, plan, stage, linked, vouched).tally();
    }
    views.put(id, view(plan, r, shown, notSteering.orElse(""), isUrgent, now));
    return r;
  }

  private static void logDecision(ManifestId id, Rollout plan, RolloutRecord next) {
    if (next.state() == RolloutState.State.HALTED) {
      log.warn("rollout {} halted: {}", id.shortHex(), next.reason());
    } else {
      log.info("rollout {}: stage {} of {} open ({}%)", id.shortHex(), next.stage() + 1, RolloutJudge.stages(plan),
          RolloutJudge.openPercent(plan, next.stage()));
    }
  }

  private static View view(Rollout plan, RolloutRecord r, StageTally t, String control, boolean urgent, long nowMillis) {
    String reason = r.reason();
    if (reason.isEmpty() && !control.isEmpty() && !control.startsWith("following")) {
      reason = "decisions wait: " + control;
    }
    return new View(stateName(r.state()), r.stage(), RolloutJudge.stages(plan), RolloutJudge.openPercent(plan, r.stage()),
        reason, t.admitted(), t.applied(), t.failed(), control, urgent, r.windowOverridden(nowMillis) ? r.windowOverrideUntilMillis() : 0);
  }

  private void broadcast(ManifestId id, Rollout plan, RolloutRecord r) {
    RolloutState state = RolloutState.newBuilder()
        .setManifestId(id.toByteString())
        .setState(r.state())
        .setOpenPermille(r.state() == RolloutState.State.ACTIVE ? RolloutJudge.openPercent(plan, r.stage()) * 10 : 0)
        .setStage(r.stage())
        .setReason(r.reason())
        .setWindowOverrideUntilUnixMs(r.windowOverrideUntilMillis())
        .build();
    long now = node.options().clock().millis();
    java.util.List<PeerLink> agents = node.transport().links().stream().filter(l -> !l.roles().contains(Role.ROLE_SEED)).toList();
    java.util.List<PeerLink> due = beacon.due(id, state, agents, now);
    if (due.isEmpty()) {
      return;
    }
    Frame f = Frame.newBuilder().setRolloutState(state.toBuilder().setSeedTimeUnixMs(now)).build();
    for (PeerLink l : due) {
      l.sendControl(f);
    }
  }

  /**
   * Operator action: pause, resume or abort, taking effect wherever the
   * rollout is steered. Empty if the manifest is unknown.
   *
   * @throws RolloutStore.NotSteeringException when the store cannot take the command now (no session)
   */
  public synchronized Optional<View> steer(ManifestId id, String action) {
    return command(id, action, cur -> RolloutJudge.command(cur, action));
  }

  /**
   * Operator action: agents admitted by their stage apply outside their maintenance windows until
   * {@code untilMillis} (this seed's clock, epoch ms); 0 clears the override. Stored in the rollout
   * record like pause and resume, so it holds on every seed of a cluster. Empty if the manifest is
   * unknown.
   *
   * @throws RolloutStore.NotSteeringException when the store cannot take the command now (no session)
   * @throws IllegalArgumentException when the override would last longer than a week
   */
  public synchronized Optional<View> overrideWindow(ManifestId id, long untilMillis) {
    long now = node.options().clock().millis();
    if (untilMillis != 0 && untilMillis - now > RolloutJudge.MAX_WINDOW_OVERRIDE_MILLIS) {
      throw new IllegalArgumentException("a window override lasts at most 7 days");
    }
    return command(id, untilMillis == 0 ? "window override cleared" : "window overridden until "
        + java.time.Instant.ofEpochMilli(untilMillis), cur -> RolloutJudge.overrideWindow(cur, untilMillis));
  }

  private Optional<View> command(ManifestId id, String what, java.util.function.UnaryOperator<RolloutRecord> change) {
    Rollout plan = plan(id);
    if (plan == null) {
      return Optional.empty();
    }
    store.notCommandable().ifPresent(why -> {
      throw new RolloutStore.NotSteeringException(why);
    });
    for (int attempt = 0; ; attempt++) {
      RolloutRecord cur = (attempt == 0 ? store.createIfAbsent(id, RolloutRecord.initial(node.options().clock().millis()))
          : store.readFresh(id))
          .orElseThrow(() -> new RolloutStore.NotSteeringException(store.notCommandable().orElse("store unavailable")));
      RolloutRecord next = change.apply(cur);
      Optional<RolloutRecord> written = next.sameAs(cur) ? Optional.of(cur) : store.command(id, cur, next);
      if (written.isPresent()) {
        log.info("rollout {}: {} by the operator", id.shortHex(), what);
        RolloutRecord r = judge(id, plan, written.get(), linkedAgents());
        broadcast(id, plan, r);
        return Optional.of(views.get(id));
      }
      if (attempt >= 20) {
        throw new RolloutStore.NotSteeringException("the rollout record kept changing; try again");
      }
    }
  }

  /** The current view of one rollout, judging it now if never judged. */
  public synchronized Optional<View> view(ManifestId id) {
    Rollout plan = plan(id);
    if (plan == null) {
      return Optional.empty();
    }
    View v = views.get(id);
    if (v == null) {
      RolloutRecord r = store.read(id).orElse(RolloutRecord.initial());
      v = view(plan, r, ownTally(id, plan, r.stage(), linkedAgents()), store.notSteering().orElse(""),
          urgent.getOrDefault(id, false), node.options().clock().millis());
    }
    return Optional.of(v);
  }

  /** Ticks completed (tests wait for a few to show that something did not happen). */
  public long ticks() {
    return ticks.get();
  }

  /** Decisions (stage opened, halt) this seed wrote. */
  public long decisions() {
    return decisions.get();
  }

  static Map<String, Object> describe(View v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", v.state());
    m.put("stage", v.stage() + 1);
    m.put("stages", v.stages());
    m.put("openPercent", v.openPercent());
    m.put("reason", v.reason());
    m.put("control", v.control());
    m.put("stageAdmitted", v.admitted());
    m.put("stageApplied", v.applied());
    m.put("stageFailed", v.failed());
    m.put("windowOverrideUntil", overrideText(v));
    return m;
  }

  /** The override's end as an ISO instant, or "" when there is none. */
  static String overrideText(View v) {
    return v.windowOverrideUntilMillis() == 0 ? "" : java.time.Instant.ofEpochMilli(v.windowOverrideUntilMillis()).toString();
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
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
  }
}
