/**
 * The node's verified cache: one directory per node, a RocksDB database with the chunk segment
 * files beside its own.
 *
 * <p>Chunk bytes: {@code chunks/seg-<n>}, append-only segment files of many chunks each ({@link
 * io.patchmesh.store.Segments}), appended before the chunk's index entry; fdatasync'ed per 8 MiB
 * with each segment's durable length recorded; checked at open ({@link
 * io.patchmesh.store.SegmentCheck}); dead bytes reclaimed after GC ({@link
 * io.patchmesh.store.SegmentCompactor}).
 *
 * <p>Column families and what they hold:
 *
 * <ul>
 *   <li>{@code chunk_index}: chunk id (32 bytes) → chunk size (4 bytes), {@code 'S'}, segment
 *       number (4 bytes), offset (8 bytes). Marks a chunk held; {@code has}, counting at open and
 *       the GC sweep never read a chunk's bytes. Entries of session 14 are the size and {@code
 *       'F'} (its bytes in a file of its own, {@link io.patchmesh.store.ChunkFiles}); both older
 *       kinds are moved into segments at open ({@link io.patchmesh.store.ChunkMigration}).
 *   <li>{@code chunks}: chunk id → chunk bytes, written only by stores from before chunk files
 *       (BlobDB, uncompressed blob files); their index entries are the 4-byte size alone. Emptied
 *       into segments at open ({@link io.patchmesh.store.ChunkMigration}); read from here until then.
 *   <li>{@code manifests}: {@code 'S'+id} → signed manifest bytes; {@code 'I'+id} → a small
 *       {@link io.patchmesh.store.StoredManifest} record for listings.
 *   <li>{@code refs}: chunk id + manifest id → empty: which retained manifest references which
 *       chunk. Sorted by chunk id, so the GC sweep is a merge of two sorted key streams.
 *   <li>{@code state}: small durable node state: per-channel version floors, the newest
 *       trust root version whose floor resets were applied, segments' durable lengths and the
 *       next segment number, and the {@link io.patchmesh.store.StateStore} key/values.
 * </ul>
 *
 * <p>Invariant: every chunk's bytes hashed to their id before they were written ({@link
 * io.patchmesh.store.ChunkStore#put}, and again when migration or compaction moves them); nothing
 * else writes them. A chunk whose bytes are missing or out of their segment reads as absent and is
 * dropped, never served.
 */
package io.patchmesh.store;
