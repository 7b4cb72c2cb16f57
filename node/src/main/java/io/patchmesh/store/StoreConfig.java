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
 * @param syncChunkWrites fdatasync every chunk's file before its index entry, and fsync the WAL
 *     for the entry. Default false: the file's bytes reach the OS before the entry, so a process
 *     crash never leaves an entry ahead of its bytes; a power loss may drop the last entries (their
 *     files are orphans deleted at the next open) or keep an entry whose file is missing or short
 *     (dropped at open or at its first read; the chunk is fetched again; every applied file is
 *     checked against its whole-file SHA-256 anyway). A fdatasync per chunk cost agents 47-76 %
 *     more CPU for a rollout (BENCHMARKS 12.18). Manifest accepts are always synced.
 * @param minBlobBytes values at least this large go to blob files, in the chunk column family
 *     that only stores from before chunk files wrote to (see the package docs). Default 4 KiB.
 * @param chunkWriteBufferBytes memtable size of that legacy chunk column family. Default 4 MiB.
 *     Chunk bytes are files now ({@link ChunkFiles}); the family only takes the deletes of its
 *     move into files, so its memtable stays small. (Until then chunk values sat in it, a direct
 *     share of an agent's RSS while it received: issue 15.)
 * @param compactAfterGc compact the legacy chunk column family after a GC that deleted chunks
 *     still in it, so its blob files leave the disk promptly. Default true. Deleted chunk files
 *     free their space at once.
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
