package io.patchmesh.store;

/**
 * How a {@link NodeStore} behaves. Immutable; start from {@link #DEFAULTS} and adjust with the
 * {@code with...} methods.
 *
 * @param quotaBytes upper bound on the bytes of chunk content kept (logical chunk bytes, not
 *     disk usage: RocksDB adds a few percent and frees deleted blobs lazily). Default 10 GiB.
 * @param retainedVersionsPerChannel how many of the newest manifests per channel GC keeps, on
 *     top of pinned ones. Default 2: the applied version and the one before it, so a v3 that
 *     shares most chunks with v2 moves only what changed.
 * @param verifyOnRead hash every chunk again when it is read; a mismatch (disk rot) drops the
 *     chunk and reads as absent, so it is fetched again. Default false: chunks were hashed before
 *     they were written, and RocksDB checksums its own blocks.
 * @param syncChunkWrites fdatasync the segment after every chunk's bytes, before its index entry,
 *     and fsync the WAL for the entry. Default false: the bytes reach the OS before the entry, so a
 *     process crash never leaves an entry ahead of its bytes; segments are fdatasync'ed every 8 MiB
 *     appended (in the background) and their durable lengths recorded, and after a power loss
 *     every chunk beyond its segment's durable length is hashed again at open and dropped if it
 *     does not match (fetched again). A fdatasync per chunk cost agents 47-76 % more CPU for a
 *     rollout (BENCHMARKS 12.18). Manifest accepts are always synced.
 * @param minBlobBytes values at least this large go to blob files, in the chunk column family
 *     that only stores from before chunk files wrote to (see the package docs). Default 4 KiB.
 * @param chunkWriteBufferBytes memtable size of that legacy chunk column family. Default 4 MiB.
 *     Chunk bytes are files now ({@link ChunkFiles}); the family only takes the deletes of its
 *     move into files, so its memtable stays small. (Until then chunk values sat in it, a direct
 *     share of an agent's RSS while it received: issue 15.)
 * @param compactAfterGc compact the legacy chunk column family after a GC that deleted chunks
 *     still in it, so its blob files leave the disk promptly. Default true. (Dead bytes in
 *     segments are reclaimed after every GC anyway, {@link SegmentCompactor}.)
 * @param segmentBytes size at which a segment file of chunk bytes is sealed and the next one
 *     started ({@link Segments}). Default 64 MiB; at least 64 KiB.
 */
public record StoreConfig(
    long quotaBytes,
    int retainedVersionsPerChannel,
    boolean verifyOnRead,
    boolean syncChunkWrites,
    long minBlobBytes,
    long chunkWriteBufferBytes,
    boolean compactAfterGc,
    long segmentBytes) {

  public static final StoreConfig DEFAULTS =
      new StoreConfig(10L << 30, 2, false, false, 4096, 4L << 20, true, Segments.SEGMENT_BYTES);

  /** With the default segment size. */
  public StoreConfig(long quotaBytes, int retainedVersionsPerChannel, boolean verifyOnRead,
      boolean syncChunkWrites, long minBlobBytes, long chunkWriteBufferBytes, boolean compactAfterGc) {
    this(quotaBytes, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites, minBlobBytes,
        chunkWriteBufferBytes, compactAfterGc, Segments.SEGMENT_BYTES);
  }

  public StoreConfig {
    if (quotaBytes <= 0) {
      throw new IllegalArgumentException("quotaBytes must be positive: " + quotaBytes);
    }
    if (retainedVersionsPerChannel < 1) {
      throw new IllegalArgumentException(
          "retainedVersionsPerChannel must be at least 1: " + retainedVersionsPerChannel);
    }
    if (minBlobBytes < 0 || chunkWriteBufferBytes < (1 << 20)) {
      throw new IllegalArgumentException("minBlobBytes >= 0 and chunkWriteBufferBytes >= 1 MiB");
    }
    if (segmentBytes < (64 << 10)) {
      throw new IllegalArgumentException("segmentBytes must be at least 64 KiB: " + segmentBytes);
    }
  }

  public StoreConfig withQuotaBytes(long quota) {
    return new StoreConfig(quota, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc, segmentBytes);
  }

  public StoreConfig withRetainedVersionsPerChannel(int retained) {
    return new StoreConfig(quotaBytes, retained, verifyOnRead, syncChunkWrites, minBlobBytes,
        chunkWriteBufferBytes, compactAfterGc, segmentBytes);
  }

  public StoreConfig withVerifyOnRead(boolean verify) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verify, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc, segmentBytes);
  }

  public StoreConfig withSyncChunkWrites(boolean sync) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verifyOnRead, sync,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc, segmentBytes);
  }

  public StoreConfig withCompactAfterGc(boolean compact) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compact, segmentBytes);
  }

  public StoreConfig withSegmentBytes(long bytes) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc, bytes);
  }
}
