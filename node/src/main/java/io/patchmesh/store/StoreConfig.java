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
 * @param syncChunkWrites fsync the WAL on every chunk put. Default false: a process crash keeps
 *     the chunk (the WAL write reached the OS), a power loss may drop the last few, which are then
 *     simply fetched again. Manifest accepts are always synced.
 * @param minBlobBytes values at least this large go to blob files. Default 4 KiB.
 * @param chunkWriteBufferBytes memtable size of the chunk column family. Default 4 MiB. Chunk
 *     values sit in the memtable (native memory, up to two of them while one flushes) until a
 *     flush moves them to blob files, so this is a direct share of an agent's RSS while it
 *     receives (issue 15: it was 32 MiB, up to 64 MiB of an agent's memory, then 8 MiB). Each flush writes
 *     one blob file of about this size. (A 16 MiB memtable once stopped FullDiskTest's agent from
 *     meeting its full disk: RocksDB had reserved 1.1 x the memtable for the WAL with fallocate
 *     when the store opened; the store turns fallocate off, see StoreDb.)
 * @param compactAfterGc compact the chunk column family after a GC that deleted chunks, so
 *     blob files that hold only deleted chunks are removed from disk promptly. Default true.
 */
public record StoreConfig(
    long quotaBytes,
    int retainedVersionsPerChannel,
    boolean verifyOnRead,
    boolean syncChunkWrites,
    long minBlobBytes,
    long chunkWriteBufferBytes,
    boolean compactAfterGc) {

  public static final StoreConfig DEFAULTS =
      new StoreConfig(10L << 30, 2, false, false, 4096, 4L << 20, true);

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
  }

  public StoreConfig withQuotaBytes(long quota) {
    return new StoreConfig(quota, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc);
  }

  public StoreConfig withRetainedVersionsPerChannel(int retained) {
    return new StoreConfig(quotaBytes, retained, verifyOnRead, syncChunkWrites, minBlobBytes,
        chunkWriteBufferBytes, compactAfterGc);
  }

  public StoreConfig withVerifyOnRead(boolean verify) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verify, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc);
  }

  public StoreConfig withSyncChunkWrites(boolean sync) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verifyOnRead, sync,
        minBlobBytes, chunkWriteBufferBytes, compactAfterGc);
  }

  public StoreConfig withCompactAfterGc(boolean compact) {
    return new StoreConfig(quotaBytes, retainedVersionsPerChannel, verifyOnRead, syncChunkWrites,
        minBlobBytes, chunkWriteBufferBytes, compact);
  }
}
