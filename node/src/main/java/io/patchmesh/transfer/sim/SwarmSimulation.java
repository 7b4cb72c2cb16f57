package io.patchmesh.transfer.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.PieceOutcome;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.PeerDiscipline;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.transfer.swarm.WanLinkWatch;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic swarm of N agents in K sites plus one seed, on virtual time. Every node runs the
 * real serving core ({@link Serving}, with its {@link PeerDiscipline}) and every agent the real
 * {@link ChunkPicker}; what the fetching side does between them (pumping requests, timeouts and the
 * stalled rule, the silent-WAN-link rule of {@link WanLinkWatch}, storing, Haves batched as {@code
 * HaveFanout} says) is glue here that follows {@code runtime/Swarm}: there is no fetching core yet,
 * so the simulation cannot replay bugs of that glue. It runs the nodes' transfer tuning ({@link
 * #productionTransfer}).
 *
 * <p>The network ({@link SimWire}): control frames only have latency; a piece into a site from
 * outside queues at that site's WAN downlink, one FIFO served at its rate; a piece within a site
 * crosses the sender's LAN uplink. Connections keep order; loss delays a frame by an RTO; a cut
 * drops frames without closing and connections back off as TCP does. Each link's data connection
 * is a bounded send queue: past its mark it is not writable, and the serving core parks until it
 * drains. The store is bits: a stored chunk is a set bit, a corrupt peer's pieces fail
 * verification, a full store refuses chunks, a rotten chunk is lost when read. A dead node's peers
 * learn of it from a membership oracle (not the real {@code Membership}) after {@link
 * SwarmSimConfig#DETECTION_MILLIS}.
 */
public final class SwarmSimulation {
  static final long TICK_MILLIS = 100;
  /** Haves to site agents go out at most this often (the runtime flushes them every loop tick). */
  static final long HAVE_FLUSH_MILLIS = 20;
  static final int AGENT_SLOTS = 8;
  static final int SEED_SLOTS = 64;

  final SwarmSimConfig cfg;
  final SwarmConfig swarm = SwarmConfig.defaults();
  final TransferConfig transfer = productionTransfer();
  final ManifestId manifest;
  final ChunkTable table;
  final SimNode[] agents;
  final SimNode seedNode;
  final SimWire wire;
  final List<List<SimNode>> sites = new ArrayList<>();
  private final ByteString zeros;
  private long requestIds;
  long linkEpochs;
  int honestBans;
  final Set<NodeId> bannedCorrupt = new HashSet<>();
  /** Each site's WAN downlink after --down and --slow-sites. */
  final double[] siteDownMbit;
  /** Honest agents (see {@link SimNode#honest}) that do not hold the patch yet: the run ends at 0. */
  private int honestPending;

  SwarmSimulation(SwarmSimConfig cfg) {
    this.cfg = cfg;
    this.manifest = ManifestId.ofManifestBytes(("sim-" + cfg.seed()).getBytes(StandardCharsets.UTF_8));
    int n = cfg.chunkCount();
    List<ChunkId> ids = new ArrayList<>(n);
    int[] sizes = new int[n];
    for (int i = 0; i < n; i++) {
      ids.add(ChunkId.hash(("chunk-" + i).getBytes(StandardCharsets.UTF_8)));
      sizes[i] = (int) Math.min(cfg.chunkBytes(), cfg.sizeBytes() - (long) i * cfg.chunkBytes());
    }
    this.table = new ChunkTable(ids, sizes);
    this.zeros = ByteString.copyFrom(new byte[cfg.chunkBytes()]);
    Random random = new Random(cfg.seed());
    this.siteDownMbit = new double[cfg.sites()];
    for (int s = 0; s < cfg.sites(); s++) {
      siteDownMbit[s] = cfg.downMbit(s);
    }
    for (int s : pick(new Random(cfg.seed() ^ 0x736c6f77L), cfg.sites(), cfg.slowSites())) {
      siteDownMbit[s] /= 10;
    }
    this.wire = new SimWire(this, siteDownMbit);
    for (int s = 0; s < cfg.sites(); s++) {
      sites.add(new ArrayList<>());
    }
    this.agents = new SimNode[cfg.nodes()];
    for (int i = 0; i < cfg.nodes(); i++) {
      int site = i % cfg.sites();
      agents[i] = new SimNode(this, i, nodeId("agent-" + i), site, cfg.siteName(site), false, AGENT_SLOTS);
      agents[i].picker = new ChunkPicker(agents[i].id, table, new HaveMap(n), transfer, new Random(random.nextLong()), 0);
      sites.get(site).add(agents[i]);
    }
    this.seedNode = new SimNode(this, -1, nodeId("seed"), -1, "seed", true, SEED_SLOTS);
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
   * agents of other sites at random (who then hold a link to it too).
   */
  private void link(Random random) {
    for (List<SimNode> members : sites) {
      for (SimNode a : members) {
        for (SimNode b : members) {
          if (a != b) {
            a.linkTo(b);
          }
        }
      }
    }
    for (SimNode a : agents) {
      a.linkTo(seedNode);
      seedNode.linkTo(a);
      if (cfg.sites() < 2) {
        continue;
      }
      for (int k = 0; k < swarm.crossSitePeers(); k++) {
        SimNode b = agents[random.nextInt(agents.length)];
        if (b.site != a.site && !a.links.containsKey(b.id)) {
          a.linkTo(b);
          b.linkTo(a);
        }
      }
    }
    for (SimNode a : agents) {
      for (SimLink l : a.links.values()) {
        a.picker.onPeerConnected(l.peer.id, l.ref.peerClass(a.siteName), 0);
      }
    }
    for (SimNode a : agents) {
      for (SimLink l : a.links.values()) {
        try {
          a.picker.onHaveMap(l.peer.id, l.peer.have.copy(), 0); // the have-map exchange at link-up
        } catch (HaveMapException e) {
          throw new IllegalStateException(e);
        }
      }
      a.picker.onSiteMembers(siteMembersSeenBy(a), 0);
    }
  }

  Set<NodeId> siteMembersSeenBy(SimNode n) {
    Set<NodeId> out = new HashSet<>();
    out.add(n.id);
    for (SimNode m : sites.get(n.site)) {
      SimLink l = n.links.get(m.id);
      if (l != null && l.open) {
        out.add(m.id);
      }
    }
    return out;
  }

  /** Runs the scenario to completion of every live honest agent, or to the time limit. */
  public static SwarmSimResult run(SwarmSimConfig cfg) {
    long started = System.nanoTime();
    HeapWatch heap = new HeapWatch();
    SwarmSimulation sim = new SwarmSimulation(cfg);
    sim.start();
    long events = sim.wire.runUntil(cfg.limitMillis(), sim::allHonestComplete, heap);
    if (Boolean.getBoolean("patchmesh.sim.debug")) {
      sim.debugSites();
    }
    return sim.result(events, (System.nanoTime() - started) / 1e9, heap.peakMB());
  }

  void start() {
    for (SimNode a : agents) {
      wire.at(0, () -> tick(a));
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
        wire.at(wire.now() + SwarmSimConfig.DETECTION_MILLIS, () -> {
          for (int i : doomed) {
            for (SimLink l : List.copyOf(agents[i].links.values())) {
              close(l.peer, l.peer.links.get(agents[i].id), false, false);
            }
          }
        });
      });
    }
  }

  boolean allHonestComplete() {
    return honestPending == 0;
  }

  // ------------------------------------------------------------------ fetching glue

  private void tick(SimNode n) {
    if (!n.alive || n.completedAt >= 0) {
      return;
    }
    long now = wire.now();
    watchWanLinks(n, now);
    List<ChunkRequest> expired = n.picker.expire(now);
    cancel(n, expired);
    n.discipline.onTimeouts(expired, now);
    for (PeerDiscipline.Stalled st : n.discipline.stalled(now)) {
      SimLink l = n.links.get(st.peer());
      if (l != null && l.open) {
        close(n, l, st.newlyBanned(), true);
      }
    }
    if (now - n.lastWanHaveFlushMillis >= swarm.wanHaveIntervalMillis()) {
      n.lastWanHaveFlushMillis = now;
      n.flushHaves(true);
    }
    pump(n);
    wire.at(now + TICK_MILLIS, () -> tick(n));
  }

  /**
   * As the runtime's {@code Swarm.watchWanLinks}: a WAN link we wait on that received nothing for
   * a while has its request clocks stopped; one silent for longer while another WAN link delivers
   * is benched and its requests asked elsewhere; while all are silent, site members are excused.
   */
  private void watchWanLinks(SimNode n, long now) {
    Map<LinkRef, Long> bytesIn = new HashMap<>();
    List<WanLinkWatch.WanPeer> wan = new ArrayList<>();
    for (SimLink l : n.links.values()) {
      if (l.open) {
        bytesIn.put(l.ref, l.bytesIn);
        if (!l.lan) {
          wan.add(new WanLinkWatch.WanPeer(l.ref, l.state, l.benchedAtMillis, n.picker.inFlight(l.peer.id) > 0));
        }
      }
    }
    n.watch.observe(bytesIn, now);
    if (wan.isEmpty()) {
      return;
    }
    WanLinkWatch.Judgement j = n.watch.judge(wan, now);
    for (LinkRef r : j.excuse()) {
      n.picker.excuseSilence(r.peer(), TICK_MILLIS);
    }
    j.changes().forEach((r, st) -> {
      SimLink l = n.links.get(r.peer());
      if (l != null && l.ref.equals(r)) {
        l.state = st;
      }
    });
    for (LinkRef r : j.abandon()) {
      cancel(n, n.picker.abandon(r.peer(), now, swarm.linkAbandonedMillis()));
      n.links.get(r.peer()).benchedAtMillis = now;
    }
    if (j.allSilent()) {
      n.picker.onLocalPause(now);
    }
  }

  /** Coalesces the events of one millisecond into one picking round per node, over every peer. */
  void pump(SimNode n) {
    n.pumpAll = true;
    schedulePump(n);
  }

  /**
   * The same over {@code peer} alone: an event that can only have made room or candidates at one
   * peer (its piece or reject freed a slot, its Have added a chunk) refills that peer's pipeline;
   * the tick's round over every peer catches whatever time alone changes. At 10,000 nodes, rounds
   * over all ~25 peers per Have were most of the run.
   */
  void pump(SimNode n, NodeId peer) {
    if (!n.pumpAll && !n.pumpPeers.contains(peer)) {
      n.pumpPeers.add(peer);
    }
    schedulePump(n);
  }

  private void schedulePump(SimNode n) {
    if (n.pumpScheduled || n.picker.isComplete()) {
      return;
    }
    n.pumpScheduled = true;
    wire.at(wire.now(), () -> {
      n.pumpScheduled = false;
      List<NodeId> peers = n.pumpAll || n.pumpPeers.size() > 1 ? n.picker.peersByPreference() : List.copyOf(n.pumpPeers);
      Set<NodeId> only = n.pumpAll ? null : Set.copyOf(n.pumpPeers);
      n.pumpAll = false;
      n.pumpPeers.clear();
      pumpNow(n, peers, only);
    });
  }

  private void pumpNow(SimNode n, List<NodeId> peers, Set<NodeId> only) {
    if (!n.alive || n.picker.isComplete()) {
      return;
    }
    long now = wire.now();
    for (NodeId peer : peers) {
      if (only != null && !only.contains(peer)) {
        continue;
      }
      SimLink l = n.links.get(peer);
      if (l == null || !l.open || !l.lan && now < swarm.wanStartDelayMillis() || !l.state.asked()) {
        continue;
      }
      int free = Math.min(n.picker.freeSlots(peer), swarm.maxPipeline() - n.picker.inFlight(peer));
      if (free <= 0) {
        continue;
      }
      for (int idx : n.picker.pick(peer, free, now)) {
        Request r = Request.newBuilder().setManifestId(manifest.toByteString()).setChunkIndex(idx)
            .setRequestId(++requestIds).build();
        wire.control(l, () -> l.peer.onRequest(n, r));
      }
    }
  }

  void cancel(SimNode n, List<ChunkRequest> cancels) {
    for (ChunkRequest c : cancels) {
      SimLink l = n.links.get(c.peer());
      if (l != null && l.open) {
        Cancel msg = Cancel.newBuilder().setManifestId(manifest.toByteString()).setChunkIndex(c.chunk()).build();
        wire.control(l, () -> l.peer.onCancel(n, msg));
        pump(n, c.peer()); // its slot is free again
      }
    }
  }

  /** A piece arrived at {@code client} from {@code server}; {@code corrupt}: it fails verification. */
  void onPiece(SimNode client, SimNode server, int idx, boolean corrupt) {
    SimLink l = client.links.get(server.id);
    if (!client.alive || l == null || !l.open || client.picker == null) {
      return;
    }
    long now = wire.now();
    client.discipline.onPieceArrived(server.id);
    l.bytesIn += table.size(idx);
    if (corrupt) {
      client.picker.onCorrupt(server.id, idx, now);
      if (client.discipline.onCorrupt(server.id, now)) {
        close(client, l, true, true);
      }
      pump(client);
      return;
    }
    client.discipline.onDelivered(server.id);
    PieceOutcome out = client.picker.onPiece(server.id, idx, now);
    cancel(client, out.cancels());
    if (out.kind() == PieceOutcome.Kind.ACCEPTED && client.stored < client.storeLimit) {
      client.stored++;
      client.have.set(idx);
      client.haves.gained(idx);
      if (client.picker.isComplete()) {
        client.completedAt = now;
        if (client.honest()) {
          honestPending--;
        }
        client.flushHaves(true);
      } else if (!client.haveFlushScheduled) {
        client.haveFlushScheduled = true;
        wire.at((now / HAVE_FLUSH_MILLIS + 1) * HAVE_FLUSH_MILLIS, () -> {
          client.haveFlushScheduled = false;
          if (client.alive) {
            client.flushHaves(false);
          }
        });
      }
    }
    // A full store: the picker took the chunk (it verified), the store refused it, so it is never
    // announced. The node cannot finish; its site-mates take its share over after their site-wait.
    pump(client, server.id);
  }

  /**
   * Closes {@code l} of {@code n} and its other end (as a closed TCP connection would, at once on
   * both sides). {@code ban}: {@code n} banned the peer.
   */
  void close(SimNode n, SimLink l, boolean ban, boolean countBan) {
    if (l == null || !l.open) {
      return;
    }
    if (ban && countBan) {
      if (l.peer.corrupt) {
        bannedCorrupt.add(l.peer.id);
      } else {
        honestBans++;
      }
    }
    n.linkDown(l);
    SimLink back = l.peer.links.get(n.id);
    if (back != null && back.open) {
      l.peer.linkDown(back);
    }
  }

  Frame piece(SwarmAction.Upload u) {
    return Frame.newBuilder().setPiece(Piece.newBuilder().setManifestId(u.manifest().toByteString())
        .setChunkIndex(u.index()).setData(zeros.substring(0, table.size(u.index())))).build();
  }

  // ------------------------------------------------------------------ result

  private SwarmSimResult result(long events, double wallSeconds, long peakHeapMB) {
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
        wire.now(), events, Math.round(wallSeconds * 10) / 10.0, peakHeapMB);
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
        io.patchmesh.transfer.PickerCounters c = a.picker.counters();
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
