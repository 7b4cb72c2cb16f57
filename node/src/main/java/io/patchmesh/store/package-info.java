/**
 * The node's verified cache: one RocksDB directory per node.
 *
 * <p>Column families and what they hold:
 *
 * <ul>
 *   <li>{@code chunks}: chunk id (32 bytes) → chunk bytes. BlobDB: values of 4 KiB and more
 *       live in uncompressed blob files (chunk content is often compressed already), so
 *       compaction rewrites only the small key/blob-index entries.
 *   <li>{@code chunk_index}: chunk id → chunk size (4 bytes). A key-only mirror of
 *       {@code chunks}, written in the same batch, so {@code has}, counting at open and the GC
 *       sweep never read a blob.
 *   <li>{@code manifests}: {@code 'S'+id} → signed manifest bytes; {@code 'I'+id} → a small
 *       {@link io.patchmesh.store.StoredManifest} record for listings.
 *   <li>{@code refs}: chunk id + manifest id → empty: which retained manifest references which
 *       chunk. Sorted by chunk id, so the GC sweep is a merge of two sorted key streams.
 *   <li>{@code state}: small durable node state: per-channel version floors, the newest
 *       trust root version whose floor resets were applied, and the
 *       {@link io.patchmesh.store.StateStore} key/values.
 * </ul>
 *
 * <p>Invariant: every value in {@code chunks} hashed to its key before it was written
 * ({@link io.patchmesh.store.ChunkStore#put}); nothing else writes that column family.
 */
package io.patchmesh.store;
