package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Pings this node sends on behalf of others (PingReq): our own sequence number maps back to the
 * requester and its sequence number, so the target's Ack can be relayed, or a Nack sent when the
 * target stays silent. Expiries are in sending order because every relay waits equally long.
 */
final class IndirectRelays {
  record Relay(long localSeq, NodeId origin, long originSeq, long expiresMillis) {}

  private final Map<Long, Relay> bySeq = new HashMap<>();
  private final ArrayDeque<Relay> byExpiry = new ArrayDeque<>();

  void add(Relay relay) {
    bySeq.put(relay.localSeq(), relay);
    byExpiry.addLast(relay);
  }

  /** The relay awaiting {@code localSeq}'s Ack, removed; null if none (expired or not ours). */
  Relay complete(long localSeq) {
    return bySeq.remove(localSeq);
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

  /** Earliest pending expiry (possibly of an already completed relay), or Long.MAX_VALUE. */
  long nextExpiryMillis() {
    return byExpiry.isEmpty() ? Long.MAX_VALUE : byExpiry.peekFirst().expiresMillis();
  }
}
