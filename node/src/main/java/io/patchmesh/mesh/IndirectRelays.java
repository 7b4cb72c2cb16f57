package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Pings this node sends on behalf of others (PingReq): our own sequence number maps back to the
 * requester and its sequence number, so the target's Ack can be relayed, or a Nack sent when the
 * target stays silent. Halfway through, a relay still without an Ack pings once more — as the
 * prober does on its own path — so that one lost frame does not make a suspect. A relay waits as
 * long as its requester asked (what is left of the requester's probe, {@code PingReq.relay_timeout_millis},
 * at most {@link #MAX_TIMEOUT_MILLIS}): a seed probing every second and an agent every two seconds
 * relay for each other, and a Nack that arrives after the requester's verdict is worth nothing
 * (and counts against the requester's own health).
 */
final class IndirectRelays {
  record Relay(long localSeq, NodeId origin, long originSeq, NodeId target,
      List<String> targetAddresses, long retryMillis, long expiresMillis) {}

  /** A requester cannot hold a relay longer than this (a bound on what the network asks of us). */
  static final long MAX_TIMEOUT_MILLIS = 15_000;

  private final Map<Long, Relay> bySeq = new HashMap<>();
  private final PriorityQueue<Relay> byRetry =
      new PriorityQueue<>(Comparator.comparingLong(Relay::retryMillis).thenComparingLong(Relay::localSeq));
  private final PriorityQueue<Relay> byExpiry =
      new PriorityQueue<>(Comparator.comparingLong(Relay::expiresMillis).thenComparingLong(Relay::localSeq));

  void add(Relay relay) {
    bySeq.put(relay.localSeq(), relay);
    byRetry.add(relay);
    byExpiry.add(relay);
  }

  /** How long to wait for a relay's target: the requester's wish, bounded, or {@code own} if it named none. */
  static long timeoutMillis(long requested, long own) {
    return requested > 0 ? Math.min(requested, MAX_TIMEOUT_MILLIS) : own;
  }

  /** The relay awaiting {@code localSeq}'s Ack, removed; null if none (expired or not ours). */
  Relay complete(long localSeq) {
    return bySeq.remove(localSeq);
  }

  /** The next still-pending relay whose retry is due by {@code now}; null if none. */
  Relay pollRetry(long now) {
    while (!byRetry.isEmpty() && byRetry.peek().retryMillis() <= now) {
      Relay r = byRetry.poll();
      if (bySeq.containsKey(r.localSeq())) {
        return r;
      }
    }
    return null;
  }

  /** The next relay that expired by {@code now} without an Ack, removed; null if none. */
  Relay pollExpired(long now) {
    while (!byExpiry.isEmpty() && byExpiry.peek().expiresMillis() <= now) {
      Relay r = byExpiry.poll();
      if (bySeq.remove(r.localSeq()) != null) {
        return r;
      }
    }
    return null;
  }

  /** Earliest pending retry or expiry (possibly of a completed relay), or Long.MAX_VALUE. */
  long nextDueMillis() {
    long next = byExpiry.isEmpty() ? Long.MAX_VALUE : byExpiry.peek().expiresMillis();
    return byRetry.isEmpty() ? next : Math.min(next, byRetry.peek().retryMillis());
  }
}
