package io.patchmesh.transfer.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.PickerCounters;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.ledbat.LedbatConfig;
import io.patchmesh.transfer.swarm.ManifestSession;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.transfer.swarm.SwarmCore;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic swarm of N agents in K sites plus one seed, on virtual time. Every node runs the
 * real {@link SwarmCore} — its fetching half (sessions, picker, site interest, have fan-out, the
 * silent-WAN-link watch, the stalled rule, bans) and its serving half — fed by a driver ({@link
 * SimNode}) that does over the simulated network what {@code runtime/Swarm} and {@code
 * runtime/SwarmDriver} do over sockets: link events, frames in order, writable links, read and
 * stored chunks, the membership view, ticks. The patch is a real manifest, signed and verified
 * once ({@link SimManifest}). The nodes run the production transfer tuning ({@link
 * #productionTransfer}) and swarm timing ({@link SwarmConfig#defaults}).
 *
 * <p>The network ({@link SimWire}): control frames only have latency; a piece into a site from
 * outside queues at that site's WAN downlink, one FIFO served at its rate; a piece within a site
 * crosses the sender's LAN uplink. Connections keep order; loss delays a frame by an RTO; a cut
 * drops frames without closing and connections back off as TCP does, until data unacknowledged for
 * the user timeout closes a link across it ({@link SwarmSimConfig.Liveness}); a dial across a cut
 * or to a dead node goes unanswered, and an agent redials its seed every second or so until the
 * path heals. Each link's data connection is a bounded send queue: past its mark it is not
 * writable, and the serving core parks until it drains. The store is bits: a stored chunk is a set
 * bit, a corrupt peer's pieces fail verification, a full store refuses chunks, a rotten chunk is
 * lost when read. The membership view is an oracle (not the real {@code Membership}): every node
 * sees its site's agents and the seed, and a dead node as dead {@link
 * SwarmSimConfig#DETECTION_MILLIS} after it died (its links close then).
 */
public final class SwarmSimulation {
  /** The node loop's busy tick ({@code RuntimeOptions}): ticks are never closer than this. */
  static final long TICK_MILLIS = 20;
  static final int AGENT_SLOTS = 8;
  static final int SEED_SLOTS = 64;

  final SwarmSimConfig cfg;
  final SwarmConfig swarm;
  /** What the cores cost, apart from the simulator ({@link CoreMeter#OFF}: not measured). */
  final CoreMeter meter;
  final TransferConfig transfer = productionTransfer();
  final VerifiedManifest manifest;
  final ChunkTable table;
  final SimNode[] agents;
  final SimNode seedNode;
  final SimWire wire;
  final List<List<SimNode>> sites = new ArrayList<>();
  private final Map<NodeId, SimNode> byId = new HashMap<>();
  /** Per site, the membership view its agents get: the site's agents and the seed, by the oracle. */
  private final List<List<Member>> siteView = new ArrayList<>();
  private final ByteString zeros;
  private final ByteString garbage;
  long linkEpochs;
  int honestBans;
  final Set<NodeId> bannedCorrupt = new HashSet<>();
  /** Each site's WAN downlink after --down and --slow-sites. */
  final double[] siteDownMbit;
  /** Honest agents (see {@link SimNode#honest}) that do not hold the patch yet: the run ends at 0. */
  private int honestPending;
  /** Dials, redials and links that a silent path closed. */
  private final SimDialer dialer;
  /** Per cut (in config order), WAN bytes into its site when it began: what was left is the rest. */
  private final long[] wanBytesAtCut;

  SwarmSimulation(SwarmSimConfig cfg) {
    this(cfg, CoreMeter.OFF);
  }

  SwarmSimulation(SwarmSimConfig cfg, CoreMeter meter) {
    this.cfg = cfg;
    this.meter = meter;
    this.swarm = cfg.wanYield() ? SwarmConfig.defaults().withWanYield(LedbatConfig.forRequests()) : SwarmConfig.defaults();
    int n = cfg.chunkCount();
    this.manifest = SimManifest.build(cfg.seed(), n, cfg.sizeBytes(), cfg.chunkBytes());
    this.table = ChunkTable.of(manifest.manifest());
    this.zeros = ByteString.copyFrom(new byte[cfg.chunkBytes()]);
    byte[] ff = new byte[cfg.chunkBytes()];
    Arrays.fill(ff, (byte) 0xff);
    this.garbage = ByteString.copyFrom(ff);
    Random random = new Random(cfg.seed());
    this.siteDownMbit = new double[cfg.sites()];
    for (int s = 0; s < cfg.sites(); s++) {
      siteDownMbit[s] = cfg.downMbit(s);
    }
    for (int s : pick(new Random(cfg.seed() ^ 0x736c6f77L), cfg.sites(), cfg.slowSites())) {
      siteDownMbit[s] /= 10;
    }
    this.wire = new SimWire(this, siteDownMbit);
    this.dialer = new SimDialer(this, new Random(cfg.seed() ^ 0x726564L));
    this.wanBytesAtCut = new long[cfg.cuts().size()];
    for (int s = 0; s < cfg.sites(); s++) {
      sites.add(new ArrayList<>());
      siteView.add(new ArrayList<>());
    }
    this.agents = new SimNode[cfg.nodes()];
    for (int i = 0; i < cfg.nodes(); i++) {
      int site = i % cfg.sites();
      agents[i] = new SimNode(this, i, nodeId("agent-" + i), site, cfg.siteName(site), false, AGENT_SLOTS,
          new Random(random.nextLong()));
      sites.get(site).add(agents[i]);
      byId.put(agents[i].id, agents[i]);
      siteView.get(site).add(member(agents[i], MemberStatus.ALIVE));
    }
    this.seedNode = new SimNode(this, -1, nodeId("seed"), -1, "seed", true, SEED_SLOTS, new Random(random.nextLong()));
    byId.put(seedNode.id, seedNode);
    for (List<Member> view : siteView) {
      view.add(member(seedNode, MemberStatus.ALIVE));
    }
    int[] faulty = pick(random, agents.length, cfg.corruptPeers() + cfg.fullDisks());
    for (int k = 0; k < faulty.length; k++) {
      if (k < cfg.corruptPeers()) {
        agents[faulty[k]].corrupt = true;
      } else {
        agents[faulty[k]].storeLimit = n / 2;
      }
    }
    Random rot = new Random(cfg.seed() ^ 0x726f74L);
    for (int k = 0; k < cfg.rottenChunks(); k++) {
      agents[rot.nextInt(agents.length)].rotten.set(rot.nextInt(n));
    }
    for (SimNode a : agents) {
      if (a.honest()) {
        honestPending++;
      }
    }
    link(random);
  }

  private static Member member(SimNode node, MemberStatus status) {
    return new Member(new MemberInfo(node.id, node.siteName, List.of("sim:" + node.index), roles(node.seed)), 1, status);
  }

  /** {@code count} distinct numbers of 0..{@code bound}-1 at random. */
  private static int[] pick(Random random, int bound, int count) {
    int[] all = new int[bound];
    Arrays.setAll(all, i -> i);
    for (int i = 0; i < count; i++) {
      int j = i + random.nextInt(all.length - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return Arrays.copyOf(all, count);
  }

  private static NodeId nodeId(String name) {
    return NodeId.of(ChunkId.hash(name.getBytes(StandardCharsets.UTF_8)).toByteString());
  }

  /**
   * Every agent links to its site-mates, to the seed, and to {@link SwarmConfig#crossSitePeers}
   * agents of other sites at random (who then hold a link to it too); both ends hear of it at once.
   */
  private void link(Random random) {
    for (List<SimNode> members : sites) {
      for (SimNode a : members) {
        for (SimNode b : members) {
          if (a.index < b.index) {
            a.linkUp(b);
            b.linkUp(a);
          }
        }
      }
    }
    for (SimNode a : agents) {
      a.linkUp(seedNode);
      seedNode.linkUp(a);
      if (cfg.sites() < 2) {
        continue;
      }
      for (int k = 0; k < swarm.crossSitePeers(); k++) {
        SimNode b = agents[random.nextInt(agents.length)];
        if (b.site != a.site && !a.links.containsKey(b.id)) {
          a.linkUp(b);
          b.linkUp(a);
        }
      }
    }
  }

  /** What {@code from}'s end of a link to {@code to} takes before it is unwritable ({@link SwarmSimConfig.SendBuffers}). */
  long sendBufferBytes(SimNode from, SimNode to, boolean lan) {
    if (lan) {
      return SwarmSimConfig.SendBuffers.NETTY_HIGH_WATER_BYTES;
    }
    double bottleneck = to.site < 0 ? cfg.downMbit() : siteDownMbit[to.site];
    return cfg.sendBuffers().wanBytes(bottleneck, wire.rttMillis(from, to));
  }

  /** What {@code n}'s membership view holds: its site's agents and the seed (the seed: itself). */
  List<Member> membersSeenBy(SimNode n) {
    return n.seed ? List.of(member(n, MemberStatus.ALIVE)) : siteView.get(n.site);
  }

  SimNode node(NodeId id) {
    return byId.get(id);
  }

  /** Runs the scenario to completion of every live honest agent, or to the time limit. */
  public static SwarmSimResult run(SwarmSimConfig cfg) {
    return run(cfg, CoreMeter.OFF);
  }

  /** {@link #run(SwarmSimConfig)}, the cores' CPU time and allocations measured into {@code meter}. */
  public static SwarmSimResult run(SwarmSimConfig cfg, CoreMeter meter) {
    long started = System.nanoTime();
    HeapWatch heap = new HeapWatch();
    meter.runStarted();
    SwarmSimulation sim = new SwarmSimulation(cfg, meter);
    sim.start();
    long events = sim.wire.runUntil(cfg.limitMillis(), sim::allHonestComplete, heap);
    long endMillis = sim.wire.now();
    // the pieces still on their way cross a site's link all the same: count them in wanPerSiteMax
    events += sim.wire.runUntil(cfg.limitMillis(), sim.wire::wanDrained, heap);
    meter.runEnded();
    if (Boolean.getBoolean("patchmesh.sim.debug")) {
      sim.debugSites();
    }
    return sim.result(endMillis, events, (System.nanoTime() - started) / 1e9, heap.peakMB());
  }

  /** The manifest reaches every node at 0 (the seed first); kills and cuts are scheduled. */
  void start() {
    if (Boolean.getBoolean("patchmesh.sim.timeline")) {
      timeline(new long[cfg.sites()]);
    }
    seedNode.begin();
    for (SimNode a : agents) {
      a.begin();
    }
    for (int k = 0; k < cfg.cuts().size(); k++) {
      SwarmSimConfig.Cut c = cfg.cuts().get(k);
      int index = k;
      wire.at(c.startMillis(), () -> {
        wanBytesAtCut[index] = wire.wanBytesInto[c.site()];
        wire.cutBegins(c, sites.get(c.site()));
      });
    }
    if (cfg.killCount() > 0) {
      int[] doomed = pick(new Random(cfg.seed() ^ 0x6b696c6cL), agents.length, cfg.killCount());
      wire.at(cfg.killAtMillis(), () -> {
        for (int i : doomed) {
          if (agents[i].honest() && agents[i].completedAt < 0) {
            honestPending--;
          }
          agents[i].alive = false;
        }
        wire.at(wire.now() + SwarmSimConfig.DETECTION_MILLIS, () -> detectDeaths(doomed));
      });
    }
  }

  /**
   * Debug ({@code -Dpatchmesh.sim.timeline=true}): every 250 ms, each site's WAN downlink use over the
   * last quarter second (1.0 = its --down rate) and the agents complete so far, on stderr.
   */
  private void timeline(long[] last) {
    StringBuilder b = new StringBuilder(String.format("t %6.2f", wire.now() / 1000.0));
    for (int s = 0; s < cfg.sites(); s++) {
      long d = wire.wanBytesInto[s] - last[s];
      last[s] = wire.wanBytesInto[s];
      b.append(String.format(" %5.2f", d * 8 / (siteDownMbit[s] * 1000) / 250.0));
    }
    long done = java.util.Arrays.stream(agents).filter(a -> a.completedAt >= 0).count();
    System.err.println(b.append("  done ").append(done));
    if (!allHonestComplete()) {
      wire.at(wire.now() + 250, () -> timeline(last));
    }
  }

  /** The oracle: the dead are dead in every view, their links close, their sites hear of it. */
  private void detectDeaths(int[] doomed) {
    Set<Integer> touched = new java.util.TreeSet<>();
    for (int i : doomed) {
      SimNode dead = agents[i];
      List<Member> view = siteView.get(dead.site);
      view.set(view.indexOf(member(dead, MemberStatus.ALIVE)), member(dead, MemberStatus.DEAD));
      touched.add(dead.site);
      for (SimLink l : List.copyOf(dead.links.values())) {
        SimLink back = l.peer.links.get(dead.id);
        if (back != null) {
          close(l.peer, back);
        }
      }
    }
    for (int s : touched) {
      for (SimNode a : sites.get(s)) {
        if (a.alive) {
          a.core.fetching().onMembersChanged(wire.now());
          a.act();
        }
      }
    }
  }

  boolean allHonestComplete() {
    return honestPending == 0;
  }

  /** {@code n} completed its session. */
  void completed(SimNode n) {
    if (n.honest()) {
      honestPending--;
    }
  }

  /** {@code peer} was banned by someone: counted against the scenario (an honest ban) or for it. */
  void banned(SimNode peer) {
    if (peer == null || peer.seed || !peer.corrupt) {
      honestBans++;
    } else {
      bannedCorrupt.add(peer.id);
    }
  }

  /** A dial from {@code from} to {@code peer} (the core's: tried once); see {@link SimDialer}. */
  void dial(SimNode from, NodeId peer) {
    SimNode to = byId.get(peer);
    if (to != null) {
      dialer.dial(from, to);
    }
  }

  /** The user timeout closed {@code l}; see {@link SimDialer#pathDied}. */
  void pathDied(SimLink l) {
    dialer.pathDied(l);
  }

  /** Closes {@code l} of {@code n} and its other end (as a closed TCP connection would, at once on both sides). */
  void close(SimNode n, SimLink l) {
    if (l == null || !l.open) {
      return;
    }
    n.linkDown(l);
    SimLink back = l.peer.links.get(n.id);
    if (back != null && back.open) {
      l.peer.linkDown(back);
    }
  }

  /** The piece the store model reads for {@code u}: zeros, or garbage from a corrupt node. */
  Piece piece(SwarmAction.Upload u, boolean corrupt) {
    return Piece.newBuilder().setManifestId(u.manifest().toByteString()).setChunkIndex(u.index())
        .setData((corrupt ? garbage : zeros).substring(0, table.size(u.index()))).build();
  }

  /** The store model's hash check: a corrupt node's garbage does not verify, zeros do. */
  static boolean verifies(ByteString data) {
    return data != null && (data.isEmpty() || data.byteAt(0) == 0);
  }

  // ------------------------------------------------------------------ result

  private SwarmSimResult result(long endMillis, long events, double wallSeconds, long peakHeapMB) {
    List<Double> done = new ArrayList<>();
    int honest = 0;
    for (SimNode a : agents) {
      if (a.honest()) {
        honest++;
        if (a.completedAt >= 0) {
          done.add(a.completedAt / wanBoundMillis(a.site));
        }
      }
    }
    done.sort(null);
    double wanMax = 0;
    for (int s = 0; s < cfg.sites(); s++) {
      wanMax = Math.max(wanMax, wire.wanBytesInto[s]);
    }
    return new SwarmSimResult(cfg.nodes(), cfg.sites(), cfg.seed(), honest, done.size(), honestBans, bannedCorrupt.size(),
        round3(wanMax / cfg.sizeBytes()),
        done.isEmpty() ? -1 : round3(percentile(done, 0.50)),
        done.isEmpty() ? -1 : round3(percentile(done, 0.99)),
        done.size() < honest ? -1 : round3(done.get(done.size() - 1)),
        round3((double) seedNode.bytesSent / ((double) cfg.sites() * cfg.sizeBytes())),
        round3(healTailMax()),
        endMillis, events, Math.round(wallSeconds * 10) / 10.0, peakHeapMB);
  }

  /** See {@link SwarmSimResult#healTailMax}. */
  double healTailMax() {
    double max = -1;
    for (int k = 0; k < cfg.cuts().size(); k++) {
      SwarmSimConfig.Cut c = cfg.cuts().get(k);
      long last = -1;
      for (SimNode a : sites.get(c.site())) {
        if (a.honest()) {
          if (a.completedAt < 0) {
            last = Long.MIN_VALUE; // unfinished: the completed count says so
            break;
          }
          last = Math.max(last, a.completedAt);
        }
      }
      double remaining = Math.max(0, cfg.sizeBytes() - wanBytesAtCut[k]) * 8 / (siteDownMbit[c.site()] * 1000);
      if (last > c.endMillis() && remaining > 0) {
        max = Math.max(max, (last - c.endMillis()) / remaining);
      }
    }
    return max;
  }

  private void debugSites() {
    int worst = 0;
    for (int s = 0; s < cfg.sites(); s++) {
      if (wire.wanBytesInto[s] > wire.wanBytesInto[worst]) {
        worst = s;
      }
    }
    for (int s : new int[] {0, worst}) {
      long wanReq = 0, takeovers = 0, timeouts = 0, dups = 0, unreq = 0;
      for (SimNode a : sites.get(s)) {
        ManifestSession session = a.session();
        PickerCounters c = session == null ? null : session.counters();
        if (c == null) {
          continue;
        }
        wanReq += c.wanRequests();
        takeovers += c.siteTakeovers();
        timeouts += c.timeouts();
        dups += c.duplicatePieces();
        unreq += c.unrequestedPieces();
      }
      System.err.printf("site %d: wanBytes %.3f wanRequests %d takeovers %d timeouts %d duplicatePieces %d unrequested %d%n", s,
          (double) wire.wanBytesInto[s] / cfg.sizeBytes(), wanReq, takeovers, timeouts, dups, unreq);
    }
  }

  /** Milliseconds the patch needs across {@code site}'s WAN downlink: what completion times are measured in. */
  double wanBoundMillis(int site) {
    return cfg.sizeBytes() * 8 / (siteDownMbit[site] * 1000);
  }

  private static double percentile(List<Double> sorted, double q) {
    int i = (int) Math.ceil(q * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /**
   * The transfer tuning nodes run with ({@code RuntimeOptions.transferDefaults}, checked equal by
   * {@code SimTransferDefaultsTest}): request timeouts of 8x the expected arrival, at least 5 s on
   * the LAN and 60 s across the WAN; site-wait 15..120 s. {@link TransferConfig#defaults} is the
   * picker's unit-test tuning, and with it the simulation saw takeovers and WAN duplicates that
   * production would not make.
   */
  public static TransferConfig productionTransfer() {
    return TransferConfig.defaults()
        .withRequestTimeouts(30_000, 5_000, 8.0)
        .withSiteWait(30_000, 15_000, 120_000)
        .withWanMinRequestTimeout(60_000);
  }

  static Set<Role> roles(boolean seed) {
    return Set.of(seed ? Role.ROLE_SEED : Role.ROLE_AGENT);
  }

  /** Largest used heap seen at the samples the event loop takes. */
  static final class HeapWatch {
    private long peak;

    void sample() {
      Runtime rt = Runtime.getRuntime();
      peak = Math.max(peak, rt.totalMemory() - rt.freeMemory());
    }

    long peakMB() {
      sample();
      return peak >> 20;
    }
  }
}
