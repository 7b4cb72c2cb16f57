package io.patchmesh.runtime;

import io.patchmesh.content.ChunkPlacement;
import io.patchmesh.proto.Manifest;
import io.patchmesh.transfer.swarm.ManifestSession;
import io.patchmesh.transfer.swarm.SwarmAction.Upload;
import io.patchmesh.trust.ManifestId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether a server still tries to encode a requested chunk as a delta against the requester's bases,
 * per file of each manifest served. Encoding reads every base (up to {@code DeltaLimits.MAX_BASES})
 * from the store, hashes their blocks and rolls a hash over the chunk; when a file's new bytes have
 * nothing in common with the old ones (rewritten, recompressed or encrypted anew) every one of those
 * encodes comes out not worth sending, and the work is lost: a seed's workers spent 1.5-2.0 CPU-s on
 * them per 128 MiB rollout on loopback, more than the rest of its serving (docs/BENCHMARKS.md 13au).
 * After {@link #MISSES} encodes in a row for one file that did not pay, only every
 * {@link #PROBE_EVERY}th request with bases for that file is encoded (the others are read and sent
 * whole, bases not read); one that pays opens the gate again. Per file, so a rewritten file does not
 * close the gate on a small edit elsewhere in the same patch; a chunk's file is the first one of the
 * manifest that uses it, and a manifest this node cannot look up is judged as a whole. What the gate
 * decides changes only a piece's size on the wire, never what is verified: a delta and a whole chunk
 * are hashed alike by the receiver. Node loop only.
 */
final class DeltaGate {
  /** Encodes in a row that did not pay before the gate closes for a file. */
  static final int MISSES = 16;
  /** While closed, one request with bases in this many is encoded (a probe). */
  static final int PROBE_EVERY = 8;
  /** Files remembered at most (the least recently asked is forgotten, and so open again). */
  static final int REMEMBERED = 1024;
  /** Manifests whose chunk placement is kept (a node serves one or two at a time). */
  static final int LAYOUTS = 4;

  /** The gate's key: a manifest's file ({@code file} -1: the manifest as a whole). */
  record FileKey(ManifestId manifest, int file) {}

  private static final class State {
    int misses;
    int sinceProbe;
  }

  private final Map<Object, State> byKey = new Lru<>(REMEMBERED);
  private final Map<ManifestId, ChunkPlacement> layouts = new Lru<>(LAYOUTS);
  private final Function<ManifestId, Manifest> manifests;
  private long skipped;

  /** {@code manifests}: a manifest this node holds, by id, or null. */
  DeltaGate(Function<ManifestId, Manifest> manifests) {
    this.manifests = manifests;
  }

  /** The manifest of a session this node holds, or null. */
  static Manifest manifestOf(ManifestSession s) {
    return s == null ? null : s.vm().manifest();
  }

  /** True if a request of {@code u}'s chunk with bases should be encoded as a delta. */
  boolean tryEncode(Upload u) {
    return tryEncode(keyOf(u.manifest(), u.index()));
  }

  /** What an encode tried for {@code u} came to: a delta worth sending, or not. */
  void encoded(Upload u, boolean paid) {
    encoded(keyOf(u.manifest(), u.index()), paid);
  }

  /** The file of {@code manifest} that chunk {@code index} belongs to, as the gate's key. */
  FileKey keyOf(ManifestId manifest, int index) {
    ChunkPlacement placement = layouts.get(manifest);
    if (placement == null) {
      Manifest m = manifests.apply(manifest);
      if (m == null) {
        return new FileKey(manifest, -1);
      }
      placement = ChunkPlacement.of(m); // a held manifest is verified: its chunk indexes are in range
      layouts.put(manifest, placement);
    }
    boolean used = index >= 0 && index < placement.chunkCount() && placement.occurrences(index) > 0;
    return new FileKey(manifest, used ? placement.file(index, 0) : -1); // files are placed in order
  }

  boolean tryEncode(Object key) {
    State s = byKey.get(key);
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

  void encoded(Object key, boolean paid) {
    State s = byKey.computeIfAbsent(key, k -> new State());
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

  /** A map that forgets its least recently used entry beyond {@code bound}. */
  private static final class Lru<K, V> extends LinkedHashMap<K, V> {
    private final int bound;

    Lru(int bound) {
      super(16, 0.75f, true);
      this.bound = bound;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > bound;
    }
  }
}
