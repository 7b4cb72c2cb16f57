package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pings this node sends on behalf of others (PingReq): our own sequence number maps back to the
 * requester and its sequence number, so the target's Ack can be relayed, or a Nack sent when the
 * target stays silent. Halfway through, a relay still without an Ack pings once more — as the
 * prober does on its own path — so that one lost frame does not make a suspect. Every relay waits
 * equally long, so retries and expiries come due in the order relays were added.
 */
final class IndirectRelays {
  record Relay(long localSeq, NodeId origin, long originSeq, NodeId target,
      List<String> targetAddresses, long retryMillis, long expiresMillis) {}

  private final Map<Long, Relay> bySeq = new HashMap<>();
  private final ArrayDeque<Relay> byRetry = new ArrayDeque<>();
  private final ArrayDeque<Relay> byExpiry = new ArrayDeque<>();

  void add(Relay relay) {
    bySeq.put(relay.localSeq(), relay);
    byRetry.addLast(relay);
    byExpiry.addLast(relay);
  }

  /** The relay awaiting {@code localSeq}'s Ack, removed; null if none (expired or not ours). */
  Relay complete(long localSeq) {
    return bySeq.remove(localSeq);
  }

  /** The next still-pending relay whose retry is due by {@code now}; null if none. */
  Relay pollRetry(long now) {
    while (!byRetry.isEmpty() && byRetry.peekFirst().retryMillis() <= now) {
      Relay r = byRetry.pollFirst();
      if (bySeq.containsKey(r.localSeq())) {
        return r;
      }
    }
    return null;
  }

  /** The next relay that expired by {@code now} without an Ack, removed; null if none. */
  Relay pollExpired(long now) {
    while (!byExpiry.isEmpty() && byExpiry.peekFirst().expiresMillis() <= now) {
      Relay r = byExpiry.pollFirst();
      if (bySeq.remove(r.localSeq()) != null) {
        return r;
      }
    }
    return null;
  }

  /** Earliest pending retry or expiry (possibly of a completed relay), or Long.MAX_VALUE. */
  long nextDueMillis() {
    long next = byExpiry.isEmpty() ? Long.MAX_VALUE : byExpiry.peekFirst().expiresMillis();
    return byRetry.isEmpty() ? next : Math.min(next, byRetry.peekFirst().retryMillis());
  }
}
