/**
 * The node's verified cache: one directory per node, a RocksDB database with the chunk files
 * beside its own.
 *
 * <p>Chunk bytes: {@code chunks/<first byte of the id, 2 hex>/<id, 64 hex>}, one file per
 * chunk ({@link io.patchmesh.store.ChunkFiles}), written (fdatasync'ed with StoreConfig#syncChunkWrites)
 * before the chunk's index entry; a file without an entry is an orphan, deleted at the next open
 * ({@link io.patchmesh.store.ChunkIndexCheck}).
 *
 * <p>Column families and what they hold:
 *
 * <ul>
 *   <li>{@code chunk_index}: chunk id (32 bytes) → chunk size (4 bytes) and {@code 'F'} ("its
 *       bytes are in its file"). Marks a chunk held; {@code has}, counting at open and the GC
 *       sweep never read a chunk's bytes.
 *   <li>{@code chunks}: chunk id → chunk bytes, written only by stores from before chunk files
 *       (BlobDB, uncompressed blob files); their index entries are the 4-byte size alone. Emptied
 *       into files at open ({@link io.patchmesh.store.ChunkMigration}); read from here until then.
 *   <li>{@code manifests}: {@code 'S'+id} → signed manifest bytes; {@code 'I'+id} → a small
 *       {@link io.patchmesh.store.StoredManifest} record for listings.
 *   <li>{@code refs}: chunk id + manifest id → empty: which retained manifest references which
 *       chunk. Sorted by chunk id, so the GC sweep is a merge of two sorted key streams.
 *   <li>{@code state}: small durable node state: per-channel version floors, the newest
 *       trust root version whose floor resets were applied, and the
 *       {@link io.patchmesh.store.StateStore} key/values.
 * </ul>
 *
 * <p>Invariant: every chunk file (and every value in {@code chunks}) hashed to its id before it
 * was written ({@link io.patchmesh.store.ChunkStore#put}); nothing else writes them. A chunk
 * whose file is missing or of the wrong length reads as absent and is dropped, never served.
 */
package io.patchmesh.store;
