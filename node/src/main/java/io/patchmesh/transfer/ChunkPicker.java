package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.List;
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
public final class ChunkPicker extends PickerBook {
  /**
   * @param self this node
   * @param table the manifest's chunks
   * @param initial the chunks I already hold (e.g. shared with a previous version); copied
   * @param random tie-breaks; inject a seeded one in tests
   */
  public ChunkPicker(
      NodeId self, ChunkTable table, HaveMap initial, TransferConfig config, Random random, long nowMillis) {
    super(self, table, initial, config, random, nowMillis);
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
    if (refusing.contains(peerId)) {
      return List.of(); // it serves no one now (onUploadsOff): its chunks are not in the site for us
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
    if (refusing.contains(peerId)) {
      return List.of();
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
    List<Outstanding> asked = inFlight[index]; // only a request in flight can be cancelled
    List<ChunkRequest> cancels = asked == null || asked.isEmpty() ? List.of() : new ArrayList<>();
    enterSite(index, cancels);
    return cancels;
  }

  /** The peer disconnected (or was banned): its requests are lost, its chunks leave the site view. */
  public void onPeerGone(NodeId peerId, long nowMillis) {
    refusing.remove(peerId); // a new link is a fresh start (its uploads may be on again)
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
    if (!refusing.isEmpty()) {
      members = new java.util.HashSet<>(members);
      members.removeAll(refusing);
    }
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
    List<ChunkRequest> cancels = List.of(); // nearly always none: the endgame's second copies only
    List<Outstanding> others = inFlight[index];
    if (others != null && !others.isEmpty()) {
      cancels = new ArrayList<>();
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
    dropCorrupt(peerId, index, nowMillis);
  }


  /**
   * The peer refused a request because its uploads are off (a laptop on battery or on a metered
   * link): it is no source of this manifest while this link lasts. Its requests are dropped, its
   * chunks leave the site view (so they may be fetched across the WAN), it owns no share of the
   * site's chunks, and its have-maps and Haves are ignored until the link is replaced.
   */
  public void onUploadsOff(NodeId peerId, long nowMillis) {
    withdraw(peerId, nowMillis);
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

  private static boolean heldByAny(List<Peer> sources, int c) {
    for (Peer q : sources) {
      if (q.have.has(c)) {
        return true;
      }
    }
    return false;
  }

}
