package io.patchmesh.store;

/**
 * A snapshot of a {@link ChunkStore}'s contents and counters. Counters count since the store was
 * opened; {@code chunks} and {@code storedBytes} describe what is on disk.
 *
 * @param chunks chunks stored
 * @param storedBytes bytes of chunk content stored (what the quota bounds)
 * @param newPuts puts that stored a chunk
 * @param duplicatePuts puts of a chunk that was already stored (nothing written): a chunk
 *     fetched twice shows up here
 * @param corruptRejected puts refused because the bytes did not hash to the id
 * @param corruptOnRead reads that found stored bytes no longer matching their id (only counted
 *     with {@link StoreConfig#verifyOnRead()}); such chunks are dropped
 * @param quotaRefusals puts refused because the quota was reached even after a GC
 */
public record ChunkStats(
    long chunks,
    long storedBytes,
    long newPuts,
    long duplicatePuts,
    long corruptRejected,
    long corruptOnRead,
    long quotaRefusals) {}
