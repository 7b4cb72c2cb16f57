package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Delta;
import io.patchmesh.trust.ManifestId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The last few manifest deltas a node encoded, worthwhile or not, by manifest and base: every
 * site-mate asks for the same pair, and a peer asking again and again must cost a store read, not
 * an encoding each time. An entry knows its envelope by size and hash code, so a different envelope
 * stored under the same id (more signatures) is encoded afresh. Thread-safe (workers serve).
 */
final class ManifestDeltaCache {
  private record Pair(ManifestId id, ManifestId base) {}

  /** An encoding of an envelope against a base; no delta: not worthwhile. */
  private record Encoded(int size, int hash, Optional<Delta> delta) {}

  private final int capacity;
  private final Map<Pair, Encoded> entries = new LinkedHashMap<>(4, 0.75f, true);

  /** Keeps at most {@code capacity} encodings, each at most one manifest part on the wire. */
  ManifestDeltaCache(int capacity) {
    this.capacity = capacity;
  }

  /** {@code envelope} (of {@code id}) against {@code base}: a kept encoding, else {@code encode}'s, kept. */
  Optional<Delta> get(ManifestId id, ManifestId base, ByteString envelope, Supplier<Optional<Delta>> encode) {
    Pair key = new Pair(id, base);
    synchronized (entries) {
      Encoded e = entries.get(key);
      if (e != null && e.size() == envelope.size() && e.hash() == envelope.hashCode()) {
        return e.delta();
      }
    }
    Optional<Delta> delta = encode.get(); // outside the lock: two workers may encode one pair at once, once each
    synchronized (entries) {
      entries.put(key, new Encoded(envelope.size(), envelope.hashCode(), delta));
      if (entries.size() > capacity) {
        entries.remove(entries.keySet().iterator().next()); // the least recently asked
      }
    }
    return delta;
  }
}
