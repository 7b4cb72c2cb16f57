package io.patchmesh.transfer;

import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Manifest;
import java.util.List;

/**
 * The chunk list of one manifest as the transfer code needs it: position {@code i} is have-map bit
 * {@code i}; per chunk its id (for rendezvous ranking) and size (for throughput and timeouts).
 * Immutable.
 */
public final class ChunkTable {
  private final List<ChunkId> ids;
  private final int[] sizes;
  private final long[] rendezvousKeys;
  private final long totalBytes;

  public ChunkTable(List<ChunkId> ids, int[] sizes) {
    if (ids.size() != sizes.length) {
      throw new IllegalArgumentException(ids.size() + " ids but " + sizes.length + " sizes");
    }
    this.ids = List.copyOf(ids);
    this.sizes = sizes.clone();
    this.rendezvousKeys = new long[sizes.length];
    long total = 0;
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i] <= 0) {
        throw new IllegalArgumentException("chunk " + i + " has size " + sizes[i]);
      }
      total += sizes[i];
      rendezvousKeys[i] = Rendezvous.chunkKey(this.ids.get(i));
    }
    this.totalBytes = total;
  }

  /** The chunk table of an already verified manifest. */
  public static ChunkTable of(Manifest manifest) {
    int n = manifest.getChunksCount();
    ChunkId[] ids = new ChunkId[n];
    int[] sizes = new int[n];
    for (int i = 0; i < n; i++) {
      ChunkRef ref = manifest.getChunks(i);
      ids[i] = ChunkId.of(ref.getId());
      sizes[i] = ref.getSize();
    }
    return new ChunkTable(List.of(ids), sizes);
  }

  public int count() {
    return sizes.length;
  }

  public ChunkId id(int index) {
    return ids.get(index);
  }

  public int size(int index) {
    return sizes[index];
  }

  public long totalBytes() {
    return totalBytes;
  }

  /** Mean chunk size in bytes (1 for an empty table, so divisions stay defined). */
  public int averageSize() {
    return sizes.length == 0 ? 1 : (int) Math.max(1, totalBytes / sizes.length);
  }

  long rendezvousKey(int index) {
    return rendezvousKeys[index];
  }
}
