package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * What a {@link ChunkPicker} knows and keeps consistent: its peers (their have-maps, requests in
 * flight, avoided chunks, cached speed and pipeline depth), the requests in flight per chunk and
 * their earliest deadline, the chunks still open to a pick, the site view (how many LAN peers hold
 * each chunk, since when a chunk has been absent from the site), the counters, and the queries on
 * all of that. The bookkeeping here keeps the invariants the class comment of {@link ChunkPicker}
 * states; the rules (what to pick, what an event means) are {@link ChunkPicker}'s.
 */
abstract class PickerBook {
  final NodeId self;
  final ChunkTable table;
  final TransferConfig config;
  final Random random;
  final HaveMap mine;
  final SourceStats stats;
  final PipelineSizer sizer;
  final SiteEconomy site;
  /** Peers that refused us because their uploads are off ({@link ChunkPicker#onUploadsOff}). */
  final Set<NodeId> refusing = new HashSet<>();

  /** Random scan order: ties in rarity go to whichever comes first, different on every node. */
  final ChunkOrder order;
  /** Per chunk: how many LAN peers' have-maps hold it. 0 = absent from the site (as I know it). */
  final int[] siteCount;
  /** Per chunk: since when it has been absent from the site (start of its owner's grace). */
  final long[] absentSince;
  /** Per chunk: requests in flight, null if none. */
  final List<Outstanding>[] inFlight;

  // Indexes, so that a pick costs word-wise set operations plus work per candidate, not a scan of
  // the whole manifest per peer per pump (which was half the CPU of a 13-node in-process swarm).
  /** Chunks I lack and have not requested from anyone: what a pick may choose from. */
  final BitSet open;
  /** Chunks with {@code siteCount == 0}: absent from the site, the only ones fetched over the WAN. */
  final BitSet absentFromSite;
  /** Scratch for a pick's candidate set (one pick at a time: single-threaded). */
  final BitSet candidates;

  int chunksInFlight;
  /** {@link #peersByPreference}'s answer until a peer comes, goes or changes speed; null: recompute. */
  List<NodeId> preference;
  /** {@link #nextDeadline}, kept as requests come and go; UNKNOWN: to be computed again. */
  long earliestDeadline = UNKNOWN;
  static final long UNKNOWN = Long.MIN_VALUE;
  final Map<NodeId, Peer> peers = new LinkedHashMap<>();

  /** Time between my WAN arrivals: how often one member brings a chunk in; sizes the site-wait. */
  final Ewma wanInterArrival;
  long lastWanArrivalMillis = Long.MIN_VALUE;

  long wanRequests;
  long wanEndgameDuplicates;
  long lanEndgameDuplicates;
  long siteTakeovers;
  long timeouts;
  long duplicatePieces;
  long unrequestedPieces;
  long corruptPieces;

  static final class Peer {
    final NodeId id;
    final PeerClass peerClass;
    HaveMap have;
    final List<Outstanding> outstanding = new ArrayList<>();
    long bytesInFlight;
    /** Chunks not to ask this peer for, each until a time (timeouts, rejects, corrupt). */
    final AvoidList avoid = new AvoidList();
    /** Chunks we cancelled here but would still accept if the piece races the Cancel. */
    final Set<Integer> cancelled = new HashSet<>();
    /** Already reported to {@link SiteEconomy#setObserved} as observed (a LAN peer's have-map seen). */
    boolean observed;
    /**
     * {@link #speedRank} and {@link #pipelineDepth} as of the last change to this peer's {@link
     * SourceStats} (only the picker changes them; see {@link #refresh}): read on every pump, so
     * cached rather than looked up.
     */
    double speed = Double.POSITIVE_INFINITY;
    int depth;

    Peer(NodeId id, PeerClass peerClass) {
      this.id = id;
      this.peerClass = peerClass;
    }

    boolean avoids(int chunk, long nowMillis) {
      return !avoid.isEmpty() && avoid.avoids(chunk, nowMillis);
    }
  }

  static final class Outstanding {
    final Peer peer;
    final int chunk;
    final long sentMillis;
    /** Moved later while the peer's link is silent ({@link ChunkPicker#excuseSilence}). */
    long deadlineMillis;
    /** Sent into an empty pipeline: its round trip is an RTT sample. */
    final boolean idleWhenSent;

    Outstanding(Peer peer, int chunk, long sent, long deadline, boolean idle) {
      this.peer = peer;
      this.chunk = chunk;
      this.sentMillis = sent;
      this.deadlineMillis = deadline;
      this.idleWhenSent = idle;
    }

    ChunkRequest ref() {
      return new ChunkRequest(peer.id, chunk);
    }
  }

  @SuppressWarnings("unchecked")
  PickerBook(
      NodeId self, ChunkTable table, HaveMap initial, TransferConfig config, Random random, long nowMillis) {
    if (initial.chunkCount() != table.count()) {
      throw new IllegalArgumentException("have-map covers " + initial.chunkCount() + " chunks, table " + table.count());
    }
    this.self = self;
    this.table = table;
    this.config = config;
    this.random = random;
    this.mine = initial.copy();
    this.stats = new SourceStats(config.ewmaAlpha());
    this.sizer = PipelineSizer.of(config);
    this.site = new SiteEconomy(self, table, nowMillis);
    int n = table.count();
    this.order = new ChunkOrder(n, random);
    this.siteCount = new int[n];
    this.absentSince = new long[n];
    java.util.Arrays.fill(absentSince, nowMillis);
    this.inFlight = (List<Outstanding>[]) new List<?>[n];
    this.open = new BitSet(n);
    open.set(0, n);
    open.andNot(mine.bits());
    this.absentFromSite = new BitSet(n);
    absentFromSite.set(0, n);
    this.candidates = new BitSet(n);
    this.wanInterArrival = new Ewma(config.ewmaAlpha());
  }

  /** Earliest request deadline, or Long.MAX_VALUE if nothing is in flight. */
  public long nextDeadline() {
    if (earliestDeadline == UNKNOWN) {
      long next = Long.MAX_VALUE;
      for (Peer p : peers.values()) {
        for (Outstanding o : p.outstanding) {
          next = Math.min(next, o.deadlineMillis);
        }
      }
      earliestDeadline = next;
    }
    return earliestDeadline;
  }

  /** Unmeasured sources rank as fastest so that they get tried and measured. */
  double speedRank(Peer p) {
    double t = stats.throughput(p.id);
    return Double.isNaN(t) ? Double.POSITIVE_INFINITY : t;
  }

  /** Re-reads {@code p}'s cached speed and depth after its {@link SourceStats} changed; null: not connected. */
  void refresh(Peer p) {
    if (p == null) {
      return;
    }
    double speed = speedRank(p);
    if (Double.compare(speed, p.speed) != 0 || preference == null) {
      preference = null; // the order of peersByPreference may change
    }
    p.speed = speed;
    p.depth = pipelineDepth(p.id);
  }

  boolean inEndgame() {
    int missing = table.count() - mine.count();
    return missing > 0 && chunksInFlight == missing;
  }

  // ---------------------------------------------------------------- bookkeeping

  void send(Peer p, int c, long now, boolean duplicate) {
    int size = table.size(c);
    double expected = stats.expectedArrivalMillis(p.id, p.bytesInFlight, size);
    long deadline;
    if (Double.isNaN(expected)) {
      deadline = now + config.initialRequestTimeoutMillis();
    } else {
      deadline = now + Math.max(config.minRequestTimeoutMillis(), (long) Math.ceil(config.requestTimeoutFactor() * expected));
    }
    if (p.peerClass == PeerClass.WAN) {
      deadline = Math.max(deadline, now + config.wanMinRequestTimeoutMillis());
    }
    Outstanding o = new Outstanding(p, c, now, deadline, p.outstanding.isEmpty());
    if (inFlight[c] == null) {
      inFlight[c] = new ArrayList<>(duplicate ? 2 : 1);
      chunksInFlight++;
      open.clear(c);
    }
    inFlight[c].add(o);
    p.outstanding.add(o);
    if (earliestDeadline != UNKNOWN) {
      earliestDeadline = Math.min(earliestDeadline, deadline);
    }
    p.bytesInFlight += size;
    p.cancelled.remove(c);
    if (p.peerClass == PeerClass.WAN) {
      wanRequests++;
    }
  }

  void remove(Outstanding o) {
    List<Outstanding> list = inFlight[o.chunk];
    if (list != null && list.remove(o) && list.isEmpty()) {
      inFlight[o.chunk] = null;
      chunksInFlight--;
      if (!mine.has(o.chunk)) {
        open.set(o.chunk);
      }
    }
    if (o.peer.outstanding.remove(o)) {
      o.peer.bytesInFlight -= table.size(o.chunk);
      if (o.deadlineMillis <= earliestDeadline) {
        earliestDeadline = UNKNOWN;
      }
    }
  }

  Outstanding find(int chunk, NodeId peer) {
    List<Outstanding> list = inFlight[chunk];
    if (list != null) {
      for (Outstanding o : list) {
        if (o.peer.id.equals(peer)) {
          return o;
        }
      }
    }
    return null;
  }

  /** A LAN peer holds {@code c}: count it, and cancel my WAN fetches of it (no longer needed). */
  void enterSite(int c, List<ChunkRequest> cancels) {
    siteCount[c]++;
    absentFromSite.clear(c);
    List<Outstanding> list = inFlight[c];
    if (list == null) {
      return;
    }
    for (Outstanding o : List.copyOf(list)) {
      if (o.peer.peerClass == PeerClass.WAN) {
        remove(o);
        o.peer.cancelled.add(c);
        cancels.add(o.ref());
      }
    }
  }

  void forgetSiteHoldings(HaveMap map, long now) {
    for (int c = map.nextSetFrom(0); c >= 0; c = map.nextSetFrom(c + 1)) {
      leaveSite(c, now);
    }
  }

  /** See {@link ChunkPicker#onCorrupt}: that peer is never asked for this chunk again. */
  void dropCorrupt(NodeId peerId, int index, long nowMillis) {
    Peer p = peers.get(peerId);
    if (p == null || index < 0 || index >= table.count()) {
      return;
    }
    Outstanding o = find(index, peerId);
    if (o != null) {
      remove(o);
    }
    p.cancelled.remove(index);
    p.avoid.avoid(index, Long.MAX_VALUE);
    if (p.peerClass == PeerClass.LAN && p.have != null && p.have.clear(index)) {
      // Its copy is worth nothing to us: the chunk is not "inside the site" on its word any more.
      // Otherwise a member that served its only in-site copy corrupt, once or twice (below the ban),
      // kept us from ever fetching that chunk across the WAN (found by `sim swarm --corrupt-peers`).
      leaveSite(index, nowMillis);
    }
  }
  /** See {@link ChunkPicker#onUploadsOff}: the peer is no source while its link lasts. */
  void withdraw(NodeId peerId, long now) {
    Peer p = peers.get(peerId);
    if (p == null || !refusing.add(peerId)) {
      return;
    }
    preference = null;
    for (Outstanding o : List.copyOf(p.outstanding)) {
      remove(o);
    }
    if (p.peerClass == PeerClass.LAN && p.have != null) {
      forgetSiteHoldings(p.have, now);
    }
    p.have = new HaveMap(table.count());
    site.setObserved(peerId, false);
    Set<NodeId> live = new HashSet<>(site.members());
    live.remove(peerId);
    site.setMembers(live, now);
  }

  /** One LAN holder of {@code c} fewer; with none left it is absent from the site from now on. */
  void leaveSite(int c, long now) {
    if (--siteCount[c] == 0) {
      absentFromSite.set(c);
      if (!mine.has(c)) {
        absentSince[c] = now;
      }
    }
  }

  Peer requirePeer(NodeId peerId) {
    Peer p = peers.get(peerId);
    if (p == null) {
      throw new IllegalStateException("peer " + peerId.shortHex() + " not connected to this picker");
    }
    return p;
  }

  // ---------------------------------------------------------------- queries

  /** Pipeline depth for {@code peer} from its measured RTT and throughput. */
  public int pipelineDepth(NodeId peer) {
    return sizer.depth(stats.rttMillis(peer), stats.throughput(peer), table.averageSize());
  }

  /** How many more requests {@code peer} should get now (0 if unknown). */
  public int freeSlots(NodeId peerId) {
    Peer p = peers.get(peerId);
    return p == null ? 0 : Math.max(0, p.depth - p.outstanding.size());
  }

  public int inFlight(NodeId peerId) {
    Peer p = peers.get(peerId);
    return p == null ? 0 : p.outstanding.size();
  }

  /**
   * Connected peers in the order to offer them slots: LAN peers first (free bytes), then WAN peers
   * fastest first (unmeasured first, so they get measured).
   */
  public List<NodeId> peersByPreference() {
    // Called on every pump of every node: the order is kept until a peer comes or goes or a peer's
    // speed changes, and each speed is a cached field (at 10,000 simulated nodes the comparator's
    // map lookups, once per comparison per pump, dominated the run).
    if (preference != null) {
      return preference;
    }
    int n = peers.size();
    Peer[] list = peers.values().toArray(new Peer[0]);
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    // LAN before WAN, then fastest first, an unmeasured peer as fastest; stable, so equal keys keep
    // the order the peers connected in, as the comparator-based sort did.
    java.util.Arrays.sort(idx, (a, b) -> {
      int ca = list[a].peerClass == PeerClass.LAN ? 0 : 1;
      int cb = list[b].peerClass == PeerClass.LAN ? 0 : 1;
      return ca != cb ? Integer.compare(ca, cb) : Double.compare(-list[a].speed, -list[b].speed);
    });
    List<NodeId> out = new ArrayList<>(n);
    for (Integer k : idx) {
      out.add(list[k].id);
    }
    preference = java.util.Collections.unmodifiableList(out);
    return preference;
  }



  /** The current site-wait grace: factor × my measured time between WAN chunks, clamped. */
  public long siteWaitMillis() {
    if (!wanInterArrival.known()) {
      return config.initialSiteWaitMillis();
    }
    long g = (long) Math.ceil(config.siteWaitFactor() * wanInterArrival.value());
    return Math.max(config.minSiteWaitMillis(), Math.min(config.maxSiteWaitMillis(), g));
  }

  /** 0 if I am the rendezvous owner of {@code chunk} in my site, else my rank below the owner. */
  public int siteRank(int chunk) {
    return site.myRank(chunk);
  }

  public SourceStats sourceStats() {
    return stats;
  }

  /** Whether {@code peerId}'s have-map (with its Haves) claims chunk {@code index}. */
  public boolean claims(NodeId peerId, int index) {
    Peer p = peers.get(peerId);
    return p != null && p.have != null && index >= 0 && index < table.count() && p.have.has(index);
  }

  public boolean has(int index) {
    return mine.has(index);
  }

  /** A copy of my have-map (to send to peers). */
  public HaveMap haveMap() {
    return mine.copy();
  }

  public int haveCount() {
    return mine.count();
  }

  public int chunkCount() {
    return table.count();
  }

  public boolean isComplete() {
    return mine.isComplete();
  }

  public NodeId self() {
    return self;
  }

  public PickerCounters counters() {
    return new PickerCounters(
        wanRequests, wanEndgameDuplicates, lanEndgameDuplicates, siteTakeovers, timeouts,
        duplicatePieces, unrequestedPieces, corruptPieces);
  }
}
