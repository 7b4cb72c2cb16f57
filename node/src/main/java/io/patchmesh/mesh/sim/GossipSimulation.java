package io.patchmesh.mesh.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.AnnouncementHeard;
import io.patchmesh.mesh.MemberEvent;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.mesh.Membership;
import io.patchmesh.mesh.MeshEvent;
import io.patchmesh.mesh.Outbound;
import io.patchmesh.mesh.Roster;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A deterministic discrete-event simulation of N nodes running the real {@link Membership} code
 * over a simulated network (latency per site pair, loss per packet: a frame late or lost, see
 * {@link SimConfig.LossModel}).
 *
 * <p>Timeline: all nodes start at 0 knowing the same {@link Roster}; after the warm-up (t0) node 0
 * announces a new manifest, one other node is killed and another stalls briefly. Nodes that hear
 * the announcement "fetch and verify" it (one RTT to the announcer + a fixed extra) and then
 * re-announce it. The run ends once the announcement reached 99.99% of the live nodes, every live
 * node declared the killed node dead, and the stall plus a settle time is over (or at the limit).
 *
 * <p>The stalled node is not counted for the announcement (it cannot verify while stalled).
 * Manifest fetches themselves are not counted in the byte figures: only membership frames.
 *
 * <p>After the scenario, an idle window ({@link SimConfig#idleMillis}) runs with nothing
 * happening; its traffic is counted apart (the idle cost of membership), and the CPU the
 * simulating thread spends in it is measured (not part of the deterministic result).
 */
public final class GossipSimulation {
  private static final double TARGET_SHARE = 0.9999;

  private final SimConfig config;
  private final SimNetwork network;
  private final PriorityQueue<SimEvent> queue = new PriorityQueue<>();
  private final int n;
  private final NodeId[] ids;
  private final Map<NodeId, Integer> index;
  private final int[] siteOf;
  private final Membership[] nodes;
  private final long[] scheduledTick;
  private final boolean[] heard;
  private final boolean[] verified;
  private final boolean[] fetching;
  private final boolean[] sawKill;
  private final int announcer = 0;
  private final int killed;
  private final int stalled;
  private final long t0;

  private long order;
  private long now;
  private long stallEnd = Long.MIN_VALUE;
  private boolean started;
  private int heardCount;
  private int verifiedCount;
  private int sawKillCount;
  private long heardAt = -1;
  private long verifiedAt = -1;
  private long killDetectedAt = -1;
  private long bytes;
  private long pushPullBytes;
  private long wanBytes;
  private long messages;
  /** When the idle window began (-1: not yet), and the counters at that moment. */
  private long idleFrom = -1;
  private long scenarioEnd = -1;
  private long bytesAtIdle;
  private long pushPullAtIdle;
  private long wanAtIdle;
  private long messagesAtIdle;
  private long falseDeathsAtIdle;
  private long falseSuspicionsAtIdle;
  private long openAtIdle;
  private long idleCpuNanos;
  /** Idle-window work counters (all nodes): frames received and sent, timer firings. */
  private long idleFramesIn;
  private long idleFramesOut;
  private long idleTimerWakes;
  /** Distinct peers each node exchanged a frame with, since the start and in the idle window. */
  private final java.util.BitSet[] peers;
  private final java.util.BitSet[] windowPeers;
  private long falseDeaths;
  private long falseSuspicions;
  private long openFalseSuspicions;
  private boolean stalledDeclaredDead;
  /** When each node declared the killed node dead (µs after t0; -1: not yet). */
  private final long[] deadAtMicros;
  private long seedSuspectAt = -1;
  private long seedDeadAt = -1;
  /** Cross-site bytes in + out per site, and at the idle window's start. */
  private final long[] siteWan;
  private long[] siteWanAtIdle;

  private GossipSimulation(SimConfig config) {
    this.config = config;
    this.n = config.nodes();
    SplittableRandom root = new SplittableRandom(config.seed());
    this.ids = new NodeId[n];
    this.index = new HashMap<>(n * 2);
    this.siteOf = new int[n];
    List<MemberInfo> infos = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      root.nextBytes(id);
      ids[i] = NodeId.of(id);
      index.put(ids[i], i);
      siteOf[i] = config.loneSeed() && i == announcer ? config.sites() : i % config.sites();
      infos.add(MemberInfo.of(ids[i], String.format(Locale.ROOT, "site-%04d", siteOf[i]),
          List.of("sim-" + i + ":7000"), i == announcer ? Role.ROLE_SEED : Role.ROLE_AGENT));
    }
    this.network = new SimNetwork(config, siteOf, root.split());
    Roster roster = Roster.of(infos);
    this.nodes = new Membership[n];
    for (int i = 0; i < n; i++) {
      nodes[i] = Membership.builder(infos.get(i)).config(config.membership())
          .random(root.split()).roster(roster).authority(new SimAuthority(infos.get(i).id())).start(0);
    }
    this.killed = config.killNode() ? 1 + root.nextInt(n - 1) : -1;
    int s;
    do {
      s = 1 + root.nextInt(n - 1);
    } while (s == killed);
    this.stalled = config.stallMillis() > 0 ? s : -1;
    this.scheduledTick = new long[n];
    Arrays.fill(scheduledTick, Long.MAX_VALUE);
    this.heard = new boolean[n];
    this.verified = new boolean[n];
    this.fetching = new boolean[n];
    this.sawKill = new boolean[n];
    this.peers = new java.util.BitSet[n];
    this.windowPeers = new java.util.BitSet[n];
    for (int i = 0; i < n; i++) {
      peers[i] = new java.util.BitSet();
      windowPeers[i] = new java.util.BitSet();
    }
    this.t0 = config.warmupMillis() * 1000;
    this.deadAtMicros = new long[n];
    Arrays.fill(deadAtMicros, -1);
    this.siteWan = new long[config.sites() + 1];
  }

  /** Runs one simulation; the same config always gives the same result. */
  public static SimResult run(SimConfig config) {
    return measure(config).result();
  }

  /** As {@link #run}, with the CPU time of the idle window (which varies run to run). */
  public static SimRun measure(SimConfig config) {
    GossipSimulation sim = new GossipSimulation(config);
    SimResult r = sim.execute();
    double nodeSeconds = r.nodes() * (r.idleMillis() / 1000.0);
    return new SimRun(r, nodeSeconds <= 0 ? -1 : sim.idleCpuNanos / 1000.0 / nodeSeconds,
        nodeSeconds <= 0 ? null : sim.idleWork(nodeSeconds), sim.detection(r.idleMillis()));
  }

  private SimRun.Detection detection(long idleMillis) {
    long[] t = Arrays.stream(deadAtMicros).filter(v -> v >= 0).sorted().toArray();
    double mean = t.length == 0 ? -1 : Arrays.stream(t).average().orElse(-1) / 1000.0;
    long p99 = t.length == 0 ? -1 : t[Math.max(0, (int) Math.ceil(0.99 * t.length) - 1)] / 1000;
    long worst = t.length == 0 ? -1 : t[t.length - 1] / 1000;
    double seedLink = -1;
    double busiest = -1;
    if (idleMillis > 0 && siteWanAtIdle != null) {
      double s = idleMillis / 1000.0;
      seedLink = (siteWan[siteOf[announcer]] - siteWanAtIdle[siteOf[announcer]]) / s;
      for (int k = 0; k < siteWan.length; k++) {
        busiest = Math.max(busiest, (siteWan[k] - siteWanAtIdle[k]) / s);
      }
    }
    return new SimRun.Detection(t.length, mean, p99, worst, seedSuspectAt, seedDeadAt, seedLink, busiest);
  }

  private SimRun.IdleWork idleWork(double nodeSeconds) {
    long all = 0;
    long window = 0;
    int max = 0;
    for (int i = 0; i < n; i++) {
      all += peers[i].cardinality();
      window += windowPeers[i].cardinality();
      max = Math.max(max, peers[i].cardinality());
    }
    return new SimRun.IdleWork(idleFramesIn / nodeSeconds, idleFramesOut / nodeSeconds, idleTimerWakes / nodeSeconds,
        (double) window / n, (double) all / n, max);
  }

  private SimResult execute() {
    for (int i = 0; i < n; i++) {
      scheduleTick(i);
    }
    long limit = t0 + config.maxMillis() * 1000;
    long cpuAtIdle = 0;
    while (!queue.isEmpty()) {
      SimEvent ev = queue.peek();
      if (!started && ev.atMicros >= t0) {
        now = t0;
        startScenario();
        continue;
      }
      if (started && scenarioEnd < 0 && finished()) {
        scenarioEnd = now;
        if (config.idleMillis() == 0) {
          break;
        }
        beginIdle();
        limit = now + config.idleMillis() * 1000;
        cpuAtIdle = threadCpuNanos();
      }
      if (ev.atMicros > limit) {
        break;
      }
      queue.poll();
      now = ev.atMicros;
      dispatch(ev);
    }
    if (scenarioEnd < 0) {
      scenarioEnd = now; // hit the limit
    } else if (idleFrom >= 0) {
      idleCpuNanos = threadCpuNanos() - cpuAtIdle;
      now = limit;
    }
    long scenarioMicros = Math.max(1, scenarioEnd);
    double rounds = verifiedAt < 0 ? -1
        : (double) verifiedAt / config.membership().gossipIntervalMillis();
    double nodeSeconds = n * (scenarioMicros / 1e6);
    long b = idleFrom < 0 ? bytes : bytesAtIdle;
    long pp = idleFrom < 0 ? pushPullBytes : pushPullAtIdle;
    long wan = idleFrom < 0 ? wanBytes : wanAtIdle;
    long idleMillis = idleFrom < 0 ? 0 : (now - idleFrom) / 1000;
    double idleNodeSeconds = Math.max(1e-9, n * (idleMillis / 1000.0));
    return new SimResult(n, config.sites() + (config.loneSeed() ? 1 : 0), config.loss(), config.seed(), heardAt, verifiedAt,
        rounds, b / nodeSeconds, pp / nodeSeconds, wan / nodeSeconds,
        idleFrom < 0 ? falseDeaths : falseDeathsAtIdle, idleFrom < 0 ? falseSuspicions : falseSuspicionsAtIdle,
        idleFrom < 0 ? openFalseSuspicions : openAtIdle, killDetectedAt, stalledDeclaredDead,
        (scenarioEnd - t0) / 1000, idleFrom < 0 ? messages : messagesAtIdle, idleMillis,
        idleMillis == 0 ? 0 : (bytes - bytesAtIdle) / idleNodeSeconds,
        idleMillis == 0 ? 0 : (pushPullBytes - pushPullAtIdle) / idleNodeSeconds,
        idleMillis == 0 ? 0 : (wanBytes - wanAtIdle) / idleNodeSeconds,
        idleFrom < 0 ? 0 : falseDeaths - falseDeathsAtIdle,
        idleFrom < 0 ? 0 : falseSuspicions - falseSuspicionsAtIdle);
  }

  private void beginIdle() {
    idleFrom = now;
    bytesAtIdle = bytes;
    pushPullAtIdle = pushPullBytes;
    wanAtIdle = wanBytes;
    messagesAtIdle = messages;
    falseDeathsAtIdle = falseDeaths;
    falseSuspicionsAtIdle = falseSuspicions;
    openAtIdle = openFalseSuspicions;
    siteWanAtIdle = siteWan.clone();
  }

  private static long threadCpuNanos() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    return mx.isCurrentThreadCpuTimeSupported() ? mx.getCurrentThreadCpuTime() : 0;
  }

  private void startScenario() {
    started = true;
    Announce a = Announce.newBuilder()
        .setManifestId(ByteString.copyFrom(new byte[32]))
        .setChannel("openssl/bookworm-amd64").setVersion(2).setSize(4_096).build();
    heard[announcer] = true;
    verified[announcer] = true;
    heardCount++;
    verifiedCount++;
    nodes[announcer].announce(a);
    afterInput(announcer);
    if (stalled >= 0) {
      stallEnd = t0 + config.stallMillis() * 1000;
    }
  }

  private boolean finished() {
    boolean announced = verifiedAt >= 0;
    boolean killSeen = killed < 0 || killDetectedAt >= 0;
    long settle = config.settleMillis() * 1000;
    boolean settled = now >= stallEnd + settle;
    return announced && killSeen && settled;
  }

  private void dispatch(SimEvent ev) {
    int i = ev.node;
    if (ev.kind == SimEvent.TICK) {
      if (ev.atMicros != scheduledTick[i]) {
        return; // superseded by an earlier tick
      }
      scheduledTick[i] = Long.MAX_VALUE;
    }
    if (i == killed && started) {
      return;
    }
    if (i == stalled && now < stallEnd && started) {
      if (ev.kind == SimEvent.TICK) {
        scheduledTick[i] = stallEnd;
      }
      push(stallEnd, ev.kind, i, ev.from, ev.payload); // handled when the pause ends, in order
      return;
    }
    long ms = now / 1000;
    if (idleFrom >= 0) {
      if (ev.kind == SimEvent.TICK) {
        idleTimerWakes++;
      } else if (ev.kind == SimEvent.DELIVER) {
        idleFramesIn++;
      }
    }
    switch (ev.kind) {
      case SimEvent.DELIVER -> nodes[i].onFrame(ms, ids[ev.from], (Frame) ev.payload);
      case SimEvent.TICK -> nodes[i].tick(ms);
      case SimEvent.VERIFIED -> {
        if (!verified[i]) {
          verified[i] = true;
          verifiedCount++;
          if (verifiedAt < 0 && verifiedCount >= target()) {
            verifiedAt = (now - t0) / 1000;
          }
        }
        nodes[i].announce((Announce) ev.payload);
      }
      default -> throw new IllegalStateException("unknown event kind " + ev.kind);
    }
    afterInput(i);
  }

  /** Live nodes that can take part in the announcement: all but the killed and the stalled one. */
  private int target() {
    int live = n - (killed >= 0 ? 1 : 0) - (stalled >= 0 ? 1 : 0);
    return (int) Math.ceil(TARGET_SHARE * live);
  }

  private void afterInput(int i) {
    Membership m = nodes[i];
    for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
      Integer to = index.get(o.to());
      if (to == null) {
        continue;
      }
      int size = o.frame().getSerializedSize() + 4;
      bytes += size;
      if (o.frame().hasPushPull()) {
        pushPullBytes += size;
      }
      if (siteOf[i] != siteOf[to]) {
        wanBytes += size;
        siteWan[siteOf[i]] += size;
        siteWan[siteOf[to]] += size;
      }
      messages++;
      peers[i].set(to);
      peers[to].set(i);
      if (idleFrom >= 0) {
        idleFramesOut++;
        windowPeers[i].set(to);
        windowPeers[to].set(i);
      }
      long at = network.arrivalMicros(i, to, now);
      if (at >= 0) {
        push(at, SimEvent.DELIVER, to, i, o.frame());
      }
    }
    for (MeshEvent e = m.pollEvent(); e != null; e = m.pollEvent()) {
      if (e instanceof MemberEvent me) {
        countMemberEvent(i, me);
      } else if (e instanceof AnnouncementHeard ah) {
        onHeard(i, ah);
      }
    }
    scheduleTick(i);
  }

  private void countMemberEvent(int observer, MemberEvent e) {
    Integer subject = index.get(e.member().info().id());
    if (subject == null) {
      return;
    }
    if (subject == killed && started) {
      if (observer == announcer && e.newState() == MemberStatus.SUSPECT && seedSuspectAt < 0) {
        seedSuspectAt = (now - t0) / 1000;
      }
      if (e.newState() == MemberStatus.DEAD && !sawKill[observer]) {
        sawKill[observer] = true;
        deadAtMicros[observer] = now - t0;
        if (observer == announcer) {
          seedDeadAt = (now - t0) / 1000;
        }
        if (++sawKillCount == n - 1) {
          killDetectedAt = (now - t0) / 1000;
        }
      }
      return;
    }
    if (e.newState() == MemberStatus.DEAD) {
      falseDeaths++;
      stalledDeclaredDead |= subject == stalled;
    }
    if (e.newState() == MemberStatus.SUSPECT) {
      if (subject != stalled) {
        falseSuspicions++;
      }
      openFalseSuspicions++;
    }
    if (e.oldState() == MemberStatus.SUSPECT) {
      openFalseSuspicions--;
    }
  }

  private void onHeard(int i, AnnouncementHeard ah) {
    if (!heard[i]) {
      heard[i] = true;
      heardCount++;
      if (heardAt < 0 && heardCount >= target()) {
        heardAt = (now - t0) / 1000;
      }
    }
    Integer from = index.get(ah.from());
    if (verified[i] || fetching[i] || from == null) {
      return;
    }
    fetching[i] = true;
    long rtt = network.latencyMicros(i, from) + network.latencyMicros(from, i);
    push(now + rtt + Math.round(config.verifyExtraMillis() * 1000), SimEvent.VERIFIED, i, from,
        ah.announce());
  }

  private void scheduleTick(int i) {
    long next = nodes[i].nextTimerMillis() * 1000;
    if (next <= now) {
      next = (now / 1000 + 1) * 1000; // due now: run it at the next millisecond of the node's clock
    }
    if (next < scheduledTick[i]) {
      scheduledTick[i] = next;
      push(next, SimEvent.TICK, i, i, null);
    }
  }

  private void push(long at, int kind, int node, int from, Object payload) {
    queue.add(new SimEvent(at, order++, kind, node, from, payload));
  }

  /**
   * {@code --nodes N --loss P [--loss-model delay|drop] --seed S [--sites S] [--settle-ms MS] [--idle-ms MS]}: runs one simulation and
   * prints its line.
   */
  public static void main(String[] args) {
    int nodes = 1_000;
    double loss = 0.0;
    long seed = 1;
    Integer sites = null;
    Long settle = null;
    Long idle = null;
    SimConfig.LossModel model = SimConfig.LossModel.DELAY;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--nodes" -> nodes = Integer.parseInt(args[i + 1]);
        case "--loss" -> loss = Double.parseDouble(args[i + 1]);
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--sites" -> sites = Integer.parseInt(args[i + 1]);
        case "--settle-ms" -> settle = Long.parseLong(args[i + 1]);
        case "--idle-ms" -> idle = Long.parseLong(args[i + 1]);
        case "--loss-model" -> model = SimConfig.LossModel.valueOf(args[i + 1].toUpperCase(Locale.ROOT));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    SimConfig config = SimConfig.defaults(nodes, loss, seed).withLossModel(model);
    if (sites != null) {
      config = config.withSites(sites);
    }
    if (settle != null) {
      config = config.withScenario(config.killNode(), config.stallMillis(), settle);
    }
    if (idle != null) {
      config = config.withIdleMillis(idle);
    }
    long start = System.nanoTime();
    SimResult result = run(config);
    System.out.println(result.line()
        + String.format(Locale.ROOT, " wall=%.1fs", (System.nanoTime() - start) / 1e9));
  }
}
