package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores of the two older layouts: values in the chunks column family (index entries of the size
 * alone) and session 14's one file per chunk: read where they are, moved into segments at the
 * next open, resumable, re-hashed.
 */
class ChunkMigrationTest {
  @TempDir Path dir;

  /** Writes chunks the way ChunkStore.put did before chunk files. */
  private static void putOldStyle(NodeStore store, byte[] data) {
    byte[] key = Keys.chunk(ChunkId.hash(data));
    store.db().write(new Batch().put(Cf.CHUNKS, key, data)
        .put(Cf.CHUNK_INDEX, key, Keys.encodeInt(data.length)), true);
  }

  /** Writes a chunk the way ChunkStore.put did with one file per chunk (session 14). */
  private static void putAsFile(NodeStore store, byte[] data) {
    ChunkId id = ChunkId.hash(data);
    store.chunks().files().write(id, data, false);
    store.db().write(new Batch().put(Cf.CHUNK_INDEX, Keys.chunk(id), Keys.chunkEntry(data.length)), true);
  }

  @Test
  void oldChunksAreReadWhereTheyAreThenMovedIntoSegmentsAtTheNextOpen() throws Exception {
    // More than one window of keys, so the migration pages through them.
    List<byte[]> old = TestChunks.many(100, ChunkMigration.WINDOW + 20, 8 * 1024);
    byte[] fresh = TestChunks.random(1, 20_000);
    long bytes = 0;
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      for (byte[] c : old) {
        putOldStyle(store, c);
        bytes += c.length;
      }
      store.chunks().put(ChunkId.hash(fresh), fresh);
      // Not moved yet: served from the column family.
      assertArrayEquals(old.get(0), store.chunks().get(ChunkId.hash(old.get(0))));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(old.size() + 1, store.chunks().count());
      assertEquals(bytes + fresh.length, store.chunks().storedBytes());
      for (byte[] c : old) {
        ChunkId id = ChunkId.hash(c);
        assertArrayEquals(c, StoredAt.of(store, id).read(), "moved into a segment");
        assertNull(store.db().get(Cf.CHUNKS, Keys.chunk(id)), "and out of the column family");
        assertArrayEquals(c, store.chunks().get(id));
      }
      assertArrayEquals(fresh, store.chunks().get(ChunkId.hash(fresh)));
    }
  }

  @Test
  void aMigrationInterruptedAfterItsBytesWereAppendedResumesAndARottedOldChunkIsDropped() throws Exception {
    byte[] a = TestChunks.random(2, 30_000);
    byte[] b = TestChunks.random(3, 30_000);
    byte[] rotted = TestChunks.random(4, 30_000);
    ChunkId rottedId = ChunkId.hash(rotted);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      putOldStyle(store, a);
      putOldStyle(store, b);
      byte[] bad = rotted.clone();
      bad[5] ^= 1;
      store.db().write(new Batch().put(Cf.CHUNKS, Keys.chunk(rottedId), bad)
          .put(Cf.CHUNK_INDEX, Keys.chunk(rottedId), Keys.encodeInt(bad.length)), true);
    }
    // A crash after a's bytes were appended (half of them) but before its entry was switched.
    Files.createDirectories(dir.resolve("chunks"));
    Files.write(dir.resolve("chunks").resolve("seg-1"), java.util.Arrays.copyOf(a, 1000));
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(2, store.chunks().count());
      assertEquals(a.length + b.length, store.chunks().storedBytes());
      assertArrayEquals(a, store.chunks().get(ChunkId.hash(a)));
      assertArrayEquals(b, store.chunks().get(ChunkId.hash(b)));
      assertFalse(store.chunks().has(rottedId), "bytes that no longer match are not moved");
      assertEquals(a.length + b.length, store.chunks().segmentBytes(), "the half copy was cut");
    }
  }

  @Test
  void chunkFilesOfSessionFourteenMoveIntoSegmentsAndTheirDirectoriesGo() throws Exception {
    List<byte[]> old = TestChunks.many(200, ChunkMigration.WINDOW + 30, 6 * 1024);
    byte[] missing = TestChunks.random(5, 10_000);
    byte[] shortened = TestChunks.random(6, 10_000);
    long bytes = 0;
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      for (byte[] c : old) {
        putAsFile(store, c);
        bytes += c.length;
      }
      putAsFile(store, missing);
      putAsFile(store, shortened);
      Files.delete(store.chunks().files().path(ChunkId.hash(missing)));
      Files.write(store.chunks().files().path(ChunkId.hash(shortened)), new byte[10]);
      Path orphan = store.chunks().files().path(ChunkId.hash(TestChunks.random(7, 100)));
      Files.createDirectories(orphan.getParent());
      Files.write(orphan, new byte[100]);
      // Still this open: read from their files.
      assertArrayEquals(old.get(0), store.chunks().get(ChunkId.hash(old.get(0))));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(old.size(), store.chunks().count());
      assertEquals(bytes, store.chunks().storedBytes());
      for (byte[] c : old) {
        assertArrayEquals(c, StoredAt.of(store, ChunkId.hash(c)).read());
        assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
      }
      assertFalse(store.chunks().has(ChunkId.hash(missing)));
      assertFalse(store.chunks().has(ChunkId.hash(shortened)));
      try (var s = Files.list(dir.resolve("chunks"))) {
        assertEquals(List.of("seg-1"), s.map(p -> p.getFileName().toString()).toList(),
            "the fan-out directories (and the orphan in one) are gone");
      }
    }
  }

  @Test
  void gcOfAnOldChunkNotMovedYetDeletesItFromTheColumnFamily() {
    byte[] a = TestChunks.random(7, 30_000);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      putOldStyle(store, a);
      assertEquals(1, store.gc().chunksRemoved());
      assertNull(store.db().get(Cf.CHUNKS, Keys.chunk(ChunkId.hash(a))));
      assertFalse(store.chunks().has(ChunkId.hash(a)));
    }
  }
}
