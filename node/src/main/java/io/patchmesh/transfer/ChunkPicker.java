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
 * Decides which chunk of one manifest to request from which peer. One per manifest per node;
 * sans-I/O and single-threaded: the caller feeds it events (have-maps, pieces, membership, time)
 * and sends what it returns. Nothing here touches a socket or a clock.
 *
 * <h2>Rules, and why</h2>
 *
 * <ul>
 *   <li><b>LAN first, rarest first.</b> From a peer of my own site I take the chunks it has and I
 *       lack, rarest in the site first (rarity counted over the site have-maps I know; ties broken
 *       by a per-node random permutation). Rarest-first spreads distinct chunks over the site
 *       quickly so every member has something to trade and no chunk hangs on one member.
 *   <li><b>WAN only for chunks the site lacks, and only by their owner.</b> From a WAN peer (other
 *       site or seed) I take only chunks that no site member has (per the have-maps I know) and
 *       that {@link SiteEconomy} assigns to me: I am the rendezvous owner among the live members
 *       that want the manifest, or every member ranked above me has stalled past its site-wait.
 *       Hence each chunk crosses the site's link once and the WAN work is spread over members.
 *   <li><b>Fastest WAN source.</b> A chunk is not given to a WAN peer while a faster WAN peer
 *       (EWMA throughput, {@link SourceStats}; unmeasured counts as fast so it gets tried) that has
 *       the chunk still has pipeline room. Callers ask peers in {@link #peersByPreference()} order.
 *   <li><b>Cancel on arrival in the site.</b> When a LAN peer announces a chunk I am fetching over
 *       the WAN (a stalled owner recovered), the WAN request is returned for cancelling; if its
 *       piece arrives anyway it is still accepted.
 *   <li><b>Endgame.</b> When every chunk I miss is in flight, requests are duplicated to other
 *       peers that have the chunk, at most {@link TransferConfig#endgameMaxCopies()} per chunk;
 *       the first copy to arrive cancels the rest. Only LAN peers get duplicates: a WAN duplicate
 *       costs the site's link a second copy, and a WAN request whose source is alive will arrive
 *       (the shared link is merely slow); one whose source died is dropped by {@link #onPeerGone}
 *       and one that hangs is expired by {@link #expire}, and the chunk is then picked anew.
 *   <li><b>Timeouts.</b> A request older than factor × its expected arrival (from RTT, throughput
 *       and the bytes queued before it) is expired by {@link #expire}: cancelled, the peer's
 *       throughput estimate cut, and the chunk avoided at that peer for as long as we waited, so
 *       it is re-picked elsewhere.
 * </ul>
 *
 * <h2>Invariants</h2>
 *
 * A chunk I have is never requested; a chunk is requested at most once per peer; outside endgame
 * at most one request per chunk is in flight; {@code siteCount[c]} equals the number of LAN peers
 * whose have-map holds {@code c}; a peer's pieces are only accepted for chunks requested from it
 * (or requested and cancelled late). The caller verifies every piece against the manifest before
 * {@link #onPiece} and reports mismatches with {@link #onCorrupt}.
 */
public final class ChunkPicker {
  private final NodeId self;
  private final ChunkTable table;
  private final TransferConfig config;
  private final Random random;
  private final HaveMap mine;
  private final SourceStats stats;
  private final PipelineSizer sizer;
  private final SiteEconomy site;

  /** Random scan order: ties in rarity go to whichever comes first, different on every node. */
  private final ChunkOrder order;
  /** Per chunk: how many LAN peers' have-maps hold it. 0 = absent from the site (as I know it). */
  private final int[] siteCount;
  /** Per chunk: since when it has been absent from the site (start of its owner's grace). */
  private final long[] absentSince;
  /** Per chunk: requests in flight, null if none. */
  private final List<Outstanding>[] inFlight;

  // Indexes, so that a pick costs word-wise set operations plus work per candidate, not a scan of
  // the whole manifest per peer per pump (which was half the CPU of a 13-node in-process swarm).
  /** Chunks I lack and have not requested from anyone: what a pick may choose from. */
  private final BitSet open;
  /** Chunks with {@code siteCount == 0}: absent from the site, the only ones fetched over the WAN. */
  private final BitSet absentFromSite;
  /** Scratch for a pick's candidate set (one pick at a time: single-threaded). */
  private final BitSet candidates;

  private int chunksInFlight;
  /** {@link #peersByPreference}'s answer until a peer comes, goes or changes speed; null: recompute. */
  private List<NodeId> preference;
  /** {@link #nextDeadline}, kept as requests come and go; UNKNOWN: to be computed again. */
  private long earliestDeadline = UNKNOWN;
  private static final long UNKNOWN = Long.MIN_VALUE;
  private final Map<NodeId, Peer> peers = new LinkedHashMap<>();

  /** Time between my WAN arrivals: how often one member brings a chunk in; sizes the site-wait. */
  private final Ewma wanInterArrival;
  private long lastWanArrivalMillis = Long.MIN_VALUE;

  private long wanRequests;
  private long wanEndgameDuplicates;
  private long lanEndgameDuplicates;
  private long siteTakeovers;
  private long timeouts;
  private long duplicatePieces;
  private long unrequestedPieces;
  private long corruptPieces;

  private static final class Peer {
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

  private static final class Outstanding {
    final Peer peer;
    final int chunk;
    final long sentMillis;
    /** Moved later while the peer's link is silent ({@link #excuseSilence}). */
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

  /**
   * @param self this node
   * @param table the manifest's chunks
   * @param initial the chunks I already hold (e.g. shared with a previous version); copied
   * @param random tie-breaks; inject a seeded one in tests
   */
  @SuppressWarnings("unchecked")
  public ChunkPicker(
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

  // ---------------------------------------------------------------- events

  /** A peer that shares this manifest connected. Its have-map follows with {@link #onHaveMap}. */
  public void onPeerConnected(NodeId peer, PeerClass peerClass, long nowMillis) {
    Peer old = peers.get(peer);
    if (old != null) {
      if (old.peerClass == peerClass) {
        return;
      }
      onPeerGone(peer, nowMillis);
    }
    Peer p = new Peer(peer, peerClass);
    peers.put(peer, p);
    preference = null;
    refresh(p);
  }

  /**
   * A peer's full have-map (replaces what we knew). Returns WAN requests made redundant because a
   * LAN peer now holds their chunk: send a Cancel for each.
   */
  public List<ChunkRequest> onHaveMap(NodeId peerId, HaveMap map, long nowMillis) throws HaveMapException {
    Peer p = requirePeer(peerId);
    if (map.chunkCount() != table.count()) {
      throw new HaveMapException("have-map covers " + map.chunkCount() + " chunks, manifest " + table.count());
    }
    List<ChunkRequest> cancels = new ArrayList<>();
    if (p.peerClass == PeerClass.LAN) {
      if (p.have != null) {
        forgetSiteHoldings(p.have, nowMillis);
      }
      site.setObserved(peerId, true);
      p.observed = true;
      for (int c = map.nextSetFrom(0); c >= 0; c = map.nextSetFrom(c + 1)) {
        enterSite(c, cancels);
      }
    }
    p.have = map.copy();
    return cancels;
  }

  /**
   * A peer announced one more chunk. Returns WAN requests to cancel (see {@link #onHaveMap}).
   *
   * @throws HaveMapException if the index is outside the manifest
   */
  public List<ChunkRequest> onHave(NodeId peerId, int index, long nowMillis) throws HaveMapException {
    Peer p = requirePeer(peerId);
    if (index < 0 || index >= table.count()) {
      throw new HaveMapException("Have for chunk " + index + " outside 0.." + (table.count() - 1));
    }
    if (p.have == null) {
      p.have = new HaveMap(table.count());
    }
    if (!p.have.set(index) || p.peerClass != PeerClass.LAN) {
      return List.of();
    }
    if (!p.observed) {
      site.setObserved(peerId, true);
      p.observed = true;
    }
    if (siteCount[index] == 0 && !mine.has(index)) {
      // Nobody in the site had it: this member just brought it across the WAN.
      site.onMemberProgress(peerId, nowMillis);
    }
    List<ChunkRequest> cancels = new ArrayList<>();
    enterSite(index, cancels);
    return cancels;
  }

  /** The peer disconnected (or was banned): its requests are lost, its chunks leave the site view. */
  public void onPeerGone(NodeId peerId, long nowMillis) {
    Peer p = peers.remove(peerId);
    if (p == null) {
      return;
    }
    preference = null;
    for (Outstanding o : List.copyOf(p.outstanding)) {
      remove(o);
    }
    if (p.peerClass == PeerClass.LAN) {
      site.setObserved(peerId, false);
      if (p.have != null) {
        forgetSiteHoldings(p.have, nowMillis);
      }
    }
  }

  /**
   * The live members of my site that want this manifest (from membership; the caller leaves out
   * members it has banned). I am always counted. A member missing here is no longer a candidate
   * for any chunk, so its chunks pass to the next rank at once.
   */
  public void onSiteMembers(Set<NodeId> members, long nowMillis) {
    site.setMembers(members, nowMillis);
  }

  /**
   * This node was paused (starved of CPU, GC, suspended) until {@code nowMillis}: no site member is
   * deemed stalled for a silence it could not have observed; each gets a fresh site-wait.
   */
  public void onLocalPause(long nowMillis) {
    site.excuseAll(nowMillis);
  }

  /** An RTT measurement to {@code peer} (e.g. from a ping on an idle connection). */
  public void onRttSample(NodeId peer, double rttMillis) {
    stats.onRttSample(peer, rttMillis);
    refresh(peers.get(peer));
  }

  /**
   * A piece arrived from {@code peer} and the caller verified its hash. ACCEPTED means store it
   * and announce a Have; its {@link PieceOutcome#cancels()} are the other copies still in flight.
   */
  public PieceOutcome onPiece(NodeId peerId, int index, long nowMillis) {
    if (index < 0 || index >= table.count()) {
      unrequestedPieces++;
      return PieceOutcome.UNREQUESTED;
    }
    Peer p = peers.get(peerId);
    Outstanding o = find(index, peerId);
    if (mine.has(index)) {
      if (o != null) {
        remove(o);
      }
      duplicatePieces++;
      return PieceOutcome.DUPLICATE;
    }
    boolean late = o == null && p != null && p.cancelled.remove(index);
    if (o == null && !late) {
      unrequestedPieces++;
      return PieceOutcome.UNREQUESTED;
    }
    if (o != null) {
      int size = table.size(index);
      if (o.idleWhenSent) {
        double tput = stats.throughput(peerId);
        long elapsed = nowMillis - o.sentMillis;
        stats.onRttSample(peerId, Double.isNaN(tput) ? elapsed : elapsed - size * 1000.0 / tput);
      }
      stats.onDelivery(peerId, size, o.sentMillis, nowMillis);
      refresh(p);
      remove(o);
    }
    mine.set(index);
    open.clear(index);
    List<ChunkRequest> cancels = new ArrayList<>();
    List<Outstanding> others = inFlight[index];
    if (others != null) {
      for (Outstanding other : List.copyOf(others)) {
        remove(other);
        cancels.add(other.ref());
      }
    }
    if (p != null && p.peerClass == PeerClass.WAN) {
      site.onSiteProgress(nowMillis);
      if (lastWanArrivalMillis != Long.MIN_VALUE) {
        wanInterArrival.add(Math.min(nowMillis - lastWanArrivalMillis, config.maxSiteWaitMillis()));
      }
      lastWanArrivalMillis = nowMillis;
    }
    return PieceOutcome.accepted(cancels);
  }

  /**
   * The piece from {@code peer} failed verification: the request is dropped and that peer is never
   * asked for this chunk again; it will be picked elsewhere. Strikes are {@link PeerScores}' job.
   */
  public void onCorrupt(NodeId peerId, int index, long nowMillis) {
    corruptPieces++;
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

  /** The peer rejected the request (busy, not-have, choked): ask someone else for a while. */
  public void onReject(NodeId peerId, int index, long nowMillis) {
    Peer p = peers.get(peerId);
    if (p == null || index < 0 || index >= table.count()) {
      return;
    }
    Outstanding o = find(index, peerId);
    if (o != null) {
      remove(o);
    }
    p.avoid.avoid(index, nowMillis + config.rejectBackoffMillis());
  }

  /**
   * Expires requests past their deadline: returns them for cancelling. Each counts against its
   * peer's throughput, and the chunk is avoided at that peer for as long as we waited. Call it
   * from a periodic tick (see {@link #nextDeadline()}).
   */
  public List<ChunkRequest> expire(long nowMillis) {
    if (nowMillis < nextDeadline()) {
      return new ArrayList<>(); // nothing is due (asked every tick of every node)
    }
    List<ChunkRequest> expired = new ArrayList<>();
    for (Peer p : peers.values()) {
      for (Outstanding o : List.copyOf(p.outstanding)) {
        if (o.deadlineMillis <= nowMillis) {
          long waited = nowMillis - o.sentMillis;
          remove(o);
          stats.onTimeout(p.id, table.size(o.chunk), waited);
          refresh(p);
          p.avoid.avoid(o.chunk, nowMillis + waited);
          p.cancelled.add(o.chunk);
          timeouts++;
          expired.add(o.ref());
        }
      }
    }
    return expired;
  }

  /**
   * The link to {@code peer} has been silent (nothing at all received) for the last
   * {@code millis}: the link is down, not the peer slow, so its requests' clocks stop. Their
   * pieces come when the link is back; asking another peer across the same broken link would
   * only fetch them twice. A link that stays dead is closed by its idle timeout, and then
   * {@link #onPeerGone} frees its requests.
   */
  public void excuseSilence(NodeId peerId, long millis) {
    Peer p = peers.get(peerId);
    if (p == null || millis <= 0) {
      return;
    }
    for (Outstanding o : p.outstanding) {
      o.deadlineMillis += millis;
    }
    earliestDeadline = UNKNOWN;
  }

  /**
   * Gives up now on every request in flight to {@code peer}, as if each had timed out: they are
   * returned for cancelling and asked of others, and each chunk is avoided at that peer for
   * {@code avoidMillis}. For a link that went silent while other sources still deliver: it is
   * down for us, and what it owes would otherwise wait for its idle timeout.
   */
  public List<ChunkRequest> abandon(NodeId peerId, long nowMillis, long avoidMillis) {
    Peer p = peers.get(peerId);
    if (p == null) {
      return List.of();
    }
    List<ChunkRequest> out = new ArrayList<>();
    for (Outstanding o : List.copyOf(p.outstanding)) {
      remove(o);
      stats.onTimeout(p.id, table.size(o.chunk), nowMillis - o.sentMillis);
      refresh(p);
      p.avoid.avoid(o.chunk, nowMillis + avoidMillis);
      p.cancelled.add(o.chunk);
      timeouts++;
      out.add(o.ref());
    }
    return out;
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

  // ---------------------------------------------------------------- picking

  /**
   * Up to {@code freeSlots} chunks to request from {@code peer} now; they are recorded as in
   * flight. Usually {@code freeSlots} = {@link #freeSlots(NodeId)}, lowered by any rate limit.
   */
  public List<Integer> pick(NodeId peerId, int freeSlots, long nowMillis) {
    Peer p = peers.get(peerId);
    if (p == null || p.have == null || freeSlots <= 0 || isComplete()) {
      return List.of();
    }
    List<Integer> picked =
        p.peerClass == PeerClass.LAN
            ? pickLan(p, freeSlots, nowMillis)
            : pickWan(p, freeSlots, nowMillis);
    if (picked.size() < freeSlots && inEndgame()) {
      pickEndgame(p, freeSlots - picked.size(), nowMillis, picked);
    }
    return picked;
  }

  /**
   * Rarest in the site first, ties in this node's random order. The candidates (open, held by the
   * peer, not avoided there) come from set operations; one pass over them counts rarities, a second
   * takes everything rarer than the cut-off and then the cut-off rarity in scan order.
   */
  private List<Integer> pickLan(Peer p, int want, long now) {
    int n = table.count();
    int start = n == 0 ? 0 : random.nextInt(n);
    candidates.clear();
    candidates.or(open);
    candidates.and(p.have.bits());
    if (!p.avoid.isEmpty()) {
      candidates.andNot(p.avoid.bits(now));
    }
    int count = 0;
    int maxCount = 0;
    int[] histogram = new int[peers.size() + 2];
    for (int c = candidates.nextSetBit(0); c >= 0; c = candidates.nextSetBit(c + 1)) {
      int k = Math.min(siteCount[c], histogram.length - 1);
      histogram[k]++;
      maxCount = Math.max(maxCount, k);
      count++;
    }
    if (count == 0) {
      return new ArrayList<>(); // endgame may still add to it
    }
    // Find the rarity cut-off: everything rarer than `cut` is taken, then `cut` in scan order.
    int cut = 0;
    int below = 0;
    while (cut <= maxCount && below + histogram[cut] < want) {
      below += histogram[cut];
      cut++;
    }
    List<Integer> picked = new ArrayList<>(Math.min(want, count));
    int lastRarity = cut;
    int[] atCut = {want - below};
    order.scan(candidates, count, start, c -> {
      int k = Math.min(siteCount[c], histogram.length - 1);
      if (k < lastRarity || (k == lastRarity && atCut[0]-- > 0)) {
        picked.add(c);
      }
      return picked.size() < want;
    });
    for (int c : picked) {
      send(p, c, now, false);
    }
    return picked;
  }

  /** Chunks absent from the site that I may fetch now (owner or takeover), in scan order. */
  private List<Integer> pickWan(Peer p, int want, long now) {
    int n = table.count();
    int start = n == 0 ? 0 : random.nextInt(n);
    candidates.clear();
    candidates.or(open);
    candidates.and(absentFromSite);
    candidates.and(p.have.bits());
    if (!p.avoid.isEmpty()) {
      candidates.andNot(p.avoid.bits(now));
    }
    long grace = siteWaitMillis();
    if (now < site.takeoverPossibleFrom(grace)) {
      candidates.and(site.owned()); // no member has stalled: only my own share can pass
    }
    int count = candidates.cardinality();
    if (count == 0) {
      return new ArrayList<>(); // endgame may still add to it
    }
    List<Peer> faster = fasterWanSourcesWithRoom(p);
    List<Integer> picked = new ArrayList<>();
    order.scan(candidates, count, start, c -> {
      if (site.mayFetchFromWan(c, absentSince[c], grace, now) && !heldByAny(faster, c)) {
        picked.add(c);
      }
      return picked.size() < want;
    });
    for (int c : picked) {
      if (site.myRank(c) != 0) {
        siteTakeovers++;
      }
      send(p, c, now, false);
    }
    return picked;
  }

  /** Duplicates of LAN requests still in flight, at most the configured copies per chunk. */
  private void pickEndgame(Peer p, int want, long now, List<Integer> picked) {
    if (p.peerClass == PeerClass.WAN) {
      return; // never duplicate across the WAN (see the class comment)
    }
    int n = table.count();
    int start = n == 0 ? 0 : random.nextInt(n);
    // In endgame every chunk I miss is in flight: the candidates are those the peer holds.
    candidates.clear();
    candidates.set(0, n);
    candidates.andNot(mine.bits());
    candidates.and(p.have.bits());
    if (!p.avoid.isEmpty()) {
      candidates.andNot(p.avoid.bits(now));
    }
    int[] left = {want};
    order.scan(candidates, candidates.cardinality(), start, c -> {
      List<Outstanding> rs = inFlight[c];
      if (rs == null || rs.size() >= config.endgameMaxCopies() || rs.stream().anyMatch(o -> o.peer == p)) {
        return true;
      }
      lanEndgameDuplicates++;
      send(p, c, now, true);
      picked.add(c);
      return --left[0] > 0;
    });
  }

  private List<Peer> fasterWanSourcesWithRoom(Peer p) {
    double mySpeed = p.speed;
    List<Peer> faster = new ArrayList<>();
    for (Peer q : peers.values()) {
      if (q != p && q.peerClass == PeerClass.WAN && q.have != null
          && q.speed > mySpeed && q.outstanding.size() < q.depth) {
        faster.add(q);
      }
    }
    return faster;
  }

  /** Unmeasured sources rank as fastest so that they get tried and measured. */
  private double speedRank(Peer p) {
    double t = stats.throughput(p.id);
    return Double.isNaN(t) ? Double.POSITIVE_INFINITY : t;
  }

  /** Re-reads {@code p}'s cached speed and depth after its {@link SourceStats} changed; null: not connected. */
  private void refresh(Peer p) {
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

  private static boolean heldByAny(List<Peer> sources, int c) {
    for (Peer q : sources) {
      if (q.have.has(c)) {
        return true;
      }
    }
    return false;
  }

  private boolean inEndgame() {
    int missing = table.count() - mine.count();
    return missing > 0 && chunksInFlight == missing;
  }

  // ---------------------------------------------------------------- bookkeeping

  private void send(Peer p, int c, long now, boolean duplicate) {
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

  private void remove(Outstanding o) {
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

  private Outstanding find(int chunk, NodeId peer) {
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
  private void enterSite(int c, List<ChunkRequest> cancels) {
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

  private void forgetSiteHoldings(HaveMap map, long now) {
    for (int c = map.nextSetFrom(0); c >= 0; c = map.nextSetFrom(c + 1)) {
      leaveSite(c, now);
    }
  }

  /** One LAN holder of {@code c} fewer; with none left it is absent from the site from now on. */
  private void leaveSite(int c, long now) {
    if (--siteCount[c] == 0) {
      absentFromSite.set(c);
      if (!mine.has(c)) {
        absentSince[c] = now;
      }
    }
  }

  private Peer requirePeer(NodeId peerId) {
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
