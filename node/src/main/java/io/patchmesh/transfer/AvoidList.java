package io.patchmesh.transfer;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The chunks not to ask one peer for, each until a time (after a timeout, a reject, or forever after
 * a corrupt piece). Kept as a bit set too, so the picker can subtract the whole list from its
 * candidates in one word-wise pass instead of looking every chunk up; entries are purged when the
 * earliest of them expires. Single-threaded, owned by one {@link ChunkPicker}.
 */
final class AvoidList {
  private final Map<Integer, Long> until = new HashMap<>();
  private final BitSet bits = new BitSet();
  private long nextExpiry = Long.MAX_VALUE;

  /** Do not ask for {@code chunk} before {@code untilMillis} (later of this and any earlier entry). */
  void avoid(int chunk, long untilMillis) {
    until.merge(chunk, untilMillis, Math::max);
    bits.set(chunk);
    nextExpiry = Math.min(nextExpiry, untilMillis);
  }

  boolean avoids(int chunk, long nowMillis) {
    return bits(nowMillis).get(chunk);
  }

  /** The chunks avoided at {@code nowMillis}; a live view, valid until the next call. */
  BitSet bits(long nowMillis) {
    if (nowMillis >= nextExpiry) {
      purge(nowMillis);
    }
    return bits;
  }

  boolean isEmpty() {
    return until.isEmpty();
  }

  private void purge(long nowMillis) {
    long next = Long.MAX_VALUE;
    for (Iterator<Map.Entry<Integer, Long>> it = until.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Integer, Long> e = it.next();
      if (nowMillis >= e.getValue()) {
        bits.clear(e.getKey());
        it.remove();
      } else {
        next = Math.min(next, e.getValue());
      }
    }
    nextExpiry = next;
  }
}
