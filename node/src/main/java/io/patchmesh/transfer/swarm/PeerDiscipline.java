package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.PeerScores;
import io.patchmesh.transfer.RequestGuard;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the swarm judges its peers, in one place: protocol offences ({@link RequestGuard}), corrupt
 * pieces and bans ({@link PeerScores}), and the stalled-peer rule (a peer that claims chunks and
 * then answers none of our requests). Pure: fed time and events, answers verdicts; closing links
 * and counting metrics is the caller's.
 *
 * <p>The stalled-peer rule: per peer, our requests that timed out since it last delivered a piece.
 * A peer that claims chunks and never answers costs every requester a timeout per chunk; after
 * {@link SwarmConfig#stalledTimeouts} in a row with nothing delivered, the first at least {@link
 * SwarmConfig#stalledSilenceMillis} ago, it is stalled. Stalled and never delivered a verified piece:
 * banned (redialled, it would claim the same chunks again), first for {@link #STALL_BAN_MILLIS}, doubling.
 * Delivered before: only disconnected.
 */
public final class PeerDiscipline {
  /**
   * The first ban of a stalled peer that never delivered, doubling with each repeat (to the longest ban):
   * an agent starved of CPU also claims chunks and answers none for a while (bench scale, BENCHMARKS 12.32:
   * honest, starved agents banned by the dozen, each then cut off for the 10 min of a corrupt-chunk ban,
   * their redials closed at once). A peer that withholds chunks for good is banned 1, 2, 4 ... minutes.
   */
  static final long STALL_BAN_MILLIS = 60_000;

  /**
   * A peer the stalled rule gave up on: close its link. {@code banned}: it never delivered, so it is
   * banned too; {@code newlyBanned}: that ban is new (count it once).
   */
  public record Stalled(NodeId peer, int timeouts, boolean banned, boolean newlyBanned) {}

  /** Timeouts of one peer since it last delivered, and when the first of them expired. */
  private static final class Silence {
    final long sinceMillis;
    int timeouts;

    Silence(long sinceMillis) {
      this.sinceMillis = sinceMillis;
    }
  }

  private final SwarmConfig config;
  private final RequestGuard guard;
  private final PeerScores scores;
  private final Map<NodeId, Silence> silent = new LinkedHashMap<>(); // ordered: same inputs, same verdict order
  /** Peers that have delivered at least one verified piece (one entry per peer ever linked, like the scores). */
  private final Set<NodeId> delivered = new HashSet<>();

  public PeerDiscipline(SwarmConfig config, RequestGuard.Config guard, PeerScores.Config scores) {
    this.config = config;
    this.guard = new RequestGuard(guard);
    this.scores = new PeerScores(scores);
  }

  public PeerDiscipline(SwarmConfig config) {
    this(config, RequestGuard.Config.defaults(), PeerScores.Config.defaults());
  }

  public boolean isBanned(NodeId peer, long nowMillis) {
    return scores.isBanned(peer, nowMillis);
  }

  /**
   * Judges a request (see {@link RequestGuard#onRequest}). DISCONNECT: {@link #ban} the peer and
   * close its link.
   */
  public RequestGuard.Verdict onRequest(NodeId peer, boolean knownManifest, boolean have, int outstanding, long now) {
    return guard.onRequest(peer, knownManifest, have, outstanding, config.maxOutstandingPerPeer(), now);
  }

  /**
   * Records a protocol offence. True if it reached the disconnect level: {@link #ban} the peer like
   * a corrupt-chunk server and close its link, so that neither side's redials hand it a fresh
   * account to spend again.
   */
  public boolean offense(NodeId peer, RequestGuard.Offense offense, long now) {
    return guard.record(peer, offense, now) == RequestGuard.Verdict.DISCONNECT;
  }

  /** Bans {@code peer} now; true if it was not banned already (count it once). */
  public boolean ban(NodeId peer, long now) {
    return scores.ban(peer, now);
  }

  /** A piece from {@code peer} failed verification; true if that got it banned just now. */
  public boolean onCorrupt(NodeId peer, long now) {
    if (scores.isBanned(peer, now)) {
      return false; // banned already; this piece was verified on a worker before the ban
    }
    return scores.onCorrupt(peer, now) == PeerScores.Verdict.BANNED;
  }

  /** Anything arrived from {@code peer} as a piece: its run of timeouts ends. */
  public void onPieceArrived(NodeId peer) {
    silent.remove(peer);
  }

  /** A piece of {@code peer}'s was verified and stored. */
  public void onDelivered(NodeId peer) {
    delivered.add(peer);
  }

  public boolean hasDelivered(NodeId peer) {
    return delivered.contains(peer);
  }

  /** Counts expired requests against their peers. */
  public void onTimeouts(List<ChunkRequest> expired, long now) {
    for (ChunkRequest r : expired) {
      silent.computeIfAbsent(r.peer(), p -> new Silence(now)).timeouts++;
    }
  }

  /**
   * The peers the stalled rule gives up on now (each reported once; a stalled peer that never
   * delivered is banned here). Call once per tick, also with no new expiries, so a peer the picker
   * has stopped asking is still given up once its silence is long enough.
   */
  public List<Stalled> stalled(long now) {
    if (silent.isEmpty()) {
      return List.of();
    }
    List<Stalled> out = new ArrayList<>();
    var it = silent.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      Silence q = e.getValue();
      if (q.timeouts >= config.stalledTimeouts() && now - q.sinceMillis >= config.stalledSilenceMillis()) {
        it.remove();
        NodeId peer = e.getKey();
        boolean neverDelivered = !delivered.contains(peer);
        boolean newlyBanned = neverDelivered && scores.ban(peer, now, STALL_BAN_MILLIS);
        out.add(new Stalled(peer, q.timeouts, neverDelivered, newlyBanned));
      }
    }
    return out;
  }

  /** The peer's link is gone (not replaced): forget its request account and its timeouts. */
  public void forget(NodeId peer) {
    guard.forget(peer);
    silent.remove(peer);
  }
}
