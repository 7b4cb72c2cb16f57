package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket of signature checks per sender: what one peer's gossip can make this node
 * verify. Bounded: only the most recently seen {@code trackedSenders} are remembered.
 */
final class CheckBudgets {
  private static final class Bucket {
    double tokens;
    long lastMillis;
  }

  private final MemberBounds bounds;
  private final Map<NodeId, Bucket> buckets;

  CheckBudgets(MemberBounds bounds) {
    this.bounds = bounds;
    this.buckets = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<NodeId, Bucket> eldest) {
        return size() > bounds.trackedSenders();
      }
    };
  }

  /** Takes one check from {@code sender}'s budget; false if it is spent. */
  boolean spend(NodeId sender, long now) {
    Bucket b = buckets.get(sender);
    if (b == null) {
      b = new Bucket();
      b.tokens = bounds.checkBurst();
      b.lastMillis = now;
      buckets.put(sender, b);
    } else if (now > b.lastMillis) {
      b.tokens = Math.min(bounds.checkBurst(), b.tokens + (now - b.lastMillis) * bounds.checksPerSecond() / 1000.0);
      b.lastMillis = now;
    }
    if (b.tokens < 1) {
      return false;
    }
    b.tokens--;
    return true;
  }
}
