package io.patchmesh.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Whether a server still tries to encode a requested chunk as a delta against the requester's bases,
 * per manifest served. Encoding reads every base (up to {@code DeltaLimits.MAX_BASES}) from the
 * store, hashes their blocks and rolls a hash over the chunk; when the new version's bytes have
 * nothing in common with the old one's (a file rewritten, recompressed or encrypted anew) every one
 * of those encodes comes out not worth sending, and the work is lost: a seed's workers spent 1.5-2.0
 * CPU-s on them per 128 MiB rollout on loopback, more than the rest of its serving (docs/BENCHMARKS.md
 * 13au). After {@link #MISSES} encodes in a row that did not pay, only every {@link #PROBE_EVERY}th
 * request with bases is encoded (the others are read and sent whole, bases not read); one that pays
 * opens the gate again. What the gate decides changes only a piece's size on the wire, never what
 * is verified: a delta and a whole chunk are hashed alike by the receiver. Node loop only.
 */
final class DeltaGate {
  /** Encodes in a row that did not pay before the gate closes for a manifest. */
  static final int MISSES = 16;
  /** While closed, one request with bases in this many is encoded (a probe). */
  static final int PROBE_EVERY = 8;
  /** Manifests remembered at most (a node serves one or two at a time; the oldest is forgotten). */
  static final int REMEMBERED = 32;

  private static final class State {
    int misses;
    int sinceProbe;
  }

  private final Map<Object, State> byManifest = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Object, State> eldest) {
      return size() > REMEMBERED;
    }
  };
  private long skipped;

  /** True if a request of {@code manifest}'s chunk with bases should be encoded as a delta. */
  boolean tryEncode(Object manifest) {
    State s = byManifest.get(manifest);
    if (s == null || s.misses < MISSES) {
      return true;
    }
    if (++s.sinceProbe >= PROBE_EVERY) {
      s.sinceProbe = 0;
      return true;
    }
    skipped++;
    return false;
  }

  /** What an encode tried for {@code manifest} came to: a delta worth sending, or not. */
  void encoded(Object manifest, boolean paid) {
    State s = byManifest.computeIfAbsent(manifest, k -> new State());
    if (paid) {
      s.misses = 0;
      s.sinceProbe = 0;
    } else if (s.misses < MISSES) {
      s.misses++;
    }
  }

  /** Requests with bases sent whole without an encode (for a log line and tests). */
  long skipped() {
    return skipped;
  }
}
