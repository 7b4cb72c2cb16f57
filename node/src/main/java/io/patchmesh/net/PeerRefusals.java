package io.patchmesh.net;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Peers whose laptop policy refused a link with us lately (their Goodbye's typed
 * {@code laptop_policy} flag, issue 17: a laptop on a VPN interface peers with seeds alone),
 * until a link with them comes up or {@value #HOLD_MILLIS} ms pass. Membership leaves them out of
 * whom it probes and gossips to ({@code runtime/MemberReach}): each probe of such a laptop failed,
 * so every agent suspected it every few seconds and it had to refute through the seed. Bounded
 * ({@value #MAX} peers; the oldest mark goes first). Thread-safe.
 */
final class PeerRefusals {
  /** How long a refusal is believed without news: the laptop may have left the VPN meanwhile. */
  static final long HOLD_MILLIS = 5 * 60_000;
  static final int MAX = 4_096;

  private final Map<NodeId, Long> refusedAt = new LinkedHashMap<>();

  synchronized void refused(NodeId peer, long nowMillis) {
    refusedAt.remove(peer);
    refusedAt.put(peer, nowMillis);
    Iterator<Long> oldest = refusedAt.values().iterator();
    while (refusedAt.size() > MAX) {
      oldest.next();
      oldest.remove();
    }
  }

  synchronized void linked(NodeId peer) {
    refusedAt.remove(peer);
  }

  synchronized boolean refuses(NodeId peer, long nowMillis) {
    Long at = refusedAt.get(peer);
    if (at == null) {
      return false;
    }
    if (nowMillis - at >= HOLD_MILLIS) {
      refusedAt.remove(peer);
      return false;
    }
    return true;
  }

  synchronized int size() {
    return refusedAt.size();
  }
}
