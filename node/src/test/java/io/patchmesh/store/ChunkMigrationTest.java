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
 * A store written before chunk files (values in the chunks column family, index entries of the
 * size alone): read where they are, moved into files at the next open, resumable.
 */
class ChunkMigrationTest {
  @TempDir Path dir;

  /** Writes chunks the way ChunkStore.put did before chunk files. */
  private static void putOldStyle(NodeStore store, byte[] data) {
    byte[] key = Keys.chunk(ChunkId.hash(data));
    store.db().write(new Batch().put(Cf.CHUNKS, key, data)
        .put(Cf.CHUNK_INDEX, key, Keys.encodeInt(data.length)), true);
  }

  @Test
  void oldChunksAreReadWhereTheyAreThenMovedIntoFilesAtTheNextOpen() throws Exception {
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
      assertFalse(Files.exists(store.chunks().files().path(ChunkId.hash(old.get(0)))));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(old.size() + 1, store.chunks().count());
      assertEquals(bytes + fresh.length, store.chunks().storedBytes());
      for (byte[] c : old) {
        ChunkId id = ChunkId.hash(c);
        assertTrue(Files.exists(store.chunks().files().path(id)), "moved into a file");
        assertNull(store.db().get(Cf.CHUNKS, Keys.chunk(id)), "and out of the column family");
        assertTrue(Keys.inFile(store.db().get(Cf.CHUNK_INDEX, Keys.chunk(id))));
        assertArrayEquals(c, store.chunks().get(id));
      }
      assertArrayEquals(fresh, store.chunks().get(ChunkId.hash(fresh)));
    }
  }

  @Test
  void aMigrationInterruptedAfterAFileWasWrittenResumesAndARottedOldChunkIsDropped() throws Exception {
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
      // A crash after a's file was written (half of it) but before its entry was switched.
      Path half = store.chunks().files().path(ChunkId.hash(a));
      Files.createDirectories(half.getParent());
      Files.write(half, java.util.Arrays.copyOf(a, 1000));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(2, store.chunks().count());
      assertEquals(a.length + b.length, store.chunks().storedBytes());
      assertArrayEquals(a, store.chunks().get(ChunkId.hash(a)));
      assertArrayEquals(b, store.chunks().get(ChunkId.hash(b)));
      assertFalse(store.chunks().has(rottedId), "bytes that no longer match are not moved");
      assertFalse(Files.exists(store.chunks().files().path(rottedId)));
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
