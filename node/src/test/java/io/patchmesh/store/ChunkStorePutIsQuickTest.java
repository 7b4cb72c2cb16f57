package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the node loop may store a piece itself: no GC and no fsync needed for it (BENCHMARKS 13r). */
class ChunkStorePutIsQuickTest {
  @TempDir Path dir;

  @Test
  void quickWhileTheQuotaHasRoomNotWhenAPutWouldCollect() {
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(4 * 64 * 1024);
    List<byte[]> chunks = TestChunks.many(201, 5, 64 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("c", 1, chunks));
      for (int i = 0; i < 3; i++) {
        assertTrue(store.chunks().putIsQuick(64 * 1024));
        store.chunks().put(ChunkId.hash(chunks.get(i)), chunks.get(i));
      }
      assertTrue(store.chunks().putIsQuick(64 * 1024), "the fourth still fits");
      store.chunks().put(ChunkId.hash(chunks.get(3)), chunks.get(3));
      assertFalse(store.chunks().putIsQuick(64 * 1024), "a fifth would need a GC first");
      assertTrue(store.chunks().putIsQuick(0));
    }
  }

  @Test
  void neverQuickWhenEveryChunkWriteIsSynced() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS.withSyncChunkWrites(true))) {
      assertFalse(store.chunks().putIsQuick(1));
    }
  }
}
