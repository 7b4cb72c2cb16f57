package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GarbageCollectorTest {
  private static final int SIZE = 8 * 1024;

  @TempDir Path dir;

  /** v1 = {a, b, c}, v2 = {b, c, d}, v3 = {c, d, e}: each version shares chunks with the last. */
  private final List<byte[]> a = TestChunks.many(1, 1, SIZE);
  private final List<byte[]> b = TestChunks.many(2, 1, SIZE);
  private final List<byte[]> c = TestChunks.many(3, 1, SIZE);
  private final List<byte[]> d = TestChunks.many(4, 1, SIZE);
  private final List<byte[]> e = TestChunks.many(5, 1, SIZE);

  private static List<byte[]> join(List<byte[]>... parts) {
    List<byte[]> out = new ArrayList<>();
    for (List<byte[]> p : parts) {
      out.addAll(p);
    }
    return out;
  }

  private static void putAll(NodeStore store, List<byte[]> chunks) {
    for (byte[] x : chunks) {
      store.chunks().put(ChunkId.hash(x), x);
    }
  }

  private static boolean has(NodeStore store, List<byte[]> chunk) {
    return store.chunks().has(ChunkId.hash(chunk.get(0)));
  }

  @Test
  void keepsNewestVersionsAndDeletesOnlyChunksNoRetainedManifestReferences() {
    VerifiedManifest v1 = TestManifests.ofContents("c", 1, join(a, b, c));
    VerifiedManifest v2 = TestManifests.ofContents("c", 2, join(b, c, d));
    VerifiedManifest v3 = TestManifests.ofContents("c", 3, join(c, d, e));
    VerifiedManifest other = TestManifests.ofContents("other", 1, join(a));
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      for (VerifiedManifest v : List.of(v1, v2, v3, other)) {
        store.manifests().accept(v);
      }
      putAll(store, join(a, b, c, d, e));

      GcStats stats = store.gc();

      // Retention 2 drops v1. Its chunks a, b, c are all still referenced: a by the other
      // channel's manifest, b and c by v2.
      assertEquals(1, stats.manifestsRemoved());
      assertTrue(store.manifests().get(v1.id()).isEmpty());
      assertTrue(store.manifests().get(v2.id()).isPresent());
      assertEquals(0, stats.chunksRemoved());
      assertTrue(has(store, a) && has(store, b) && has(store, c) && has(store, d) && has(store, e));

      store.manifests().accept(TestManifests.ofContents("c", 4, join(d, e)));
      stats = store.gc();

      // v2 is now beyond retention: b (v1/v2 only) goes, c (v2/v3) stays with v3.
      assertEquals(1, stats.manifestsRemoved());
      assertEquals(1, stats.chunksRemoved());
      assertEquals(SIZE, stats.bytesRemoved());
      assertFalse(has(store, b));
      assertTrue(has(store, a) && has(store, c) && has(store, d) && has(store, e));
      assertEquals(4, stats.chunksKept());
      assertEquals(4, store.manifests().highestAccepted("c"));
    }
  }

  @Test
  void pinnedManifestKeepsItsChunks() {
    VerifiedManifest v1 = TestManifests.ofContents("c", 1, join(a));
    VerifiedManifest v2 = TestManifests.ofContents("c", 2, join(b));
    VerifiedManifest v3 = TestManifests.ofContents("c", 3, join(c));
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      for (VerifiedManifest v : List.of(v1, v2, v3)) {
        store.manifests().accept(v);
      }
      putAll(store, join(a, b, c));
      store.pinWith(() -> Set.of(v1.id()));

      GcStats stats = store.gc();

      assertEquals(0, stats.manifestsRemoved());
      assertTrue(has(store, a));

      stats = store.gc(Set.of());
      assertEquals(1, stats.manifestsRemoved());
      assertFalse(has(store, a));
    }
  }

  @Test
  void sweepsOrphanChunksAcrossManyWindowsAndKeepsTheFloor() {
    List<byte[]> orphans = TestChunks.many(10_000, 5000, 100);
    List<byte[]> kept = TestChunks.many(20_000, 10, 100);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      VerifiedManifest v5 = TestManifests.ofContents("c", 5, kept);
      store.manifests().accept(v5);
      putAll(store, orphans);
      putAll(store, kept);

      GcStats stats = store.gc();

      assertEquals(5000, stats.chunksRemoved());
      assertEquals(5000L * 100, stats.bytesRemoved());
      assertEquals(10, store.chunks().count());
      for (byte[] k : kept) {
        assertTrue(store.chunks().has(ChunkId.hash(k)));
      }
      store.manifests().remove(v5.id());
      store.gc();
      assertEquals(0, store.chunks().count());
      assertEquals(5, store.manifests().highestAccepted("c"));
    }
  }

  @Test
  void deletedChunksLeaveTheDiskAfterGc() {
    StoreConfig cfg = new StoreConfig(1L << 30, 2, false, false, 4096, 1 << 20, true);
    List<byte[]> orphans = TestChunks.many(30_000, 64, 64 * 1024); // 4 MiB, several flushes
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      putAll(store, orphans);
      long before = store.diskBytes();

      GcStats stats = store.gc();

      assertEquals(64, stats.chunksRemoved());
      assertTrue(before > 2L << 20, "blob files before: " + before);
      assertTrue(store.diskBytes() < 256 * 1024, "disk after: " + store.diskBytes());
    }
  }

  /**
   * Blob garbage collection is off in background compactions (it rewrote chunks just stored) but
   * on in the compaction after a sweep: blob files holding live chunks beside deleted ones give
   * their garbage back.
   */
  @Test
  void deletedChunksSharingBlobFilesWithLiveOnesLeaveTheDiskAfterGc() {
    StoreConfig cfg = new StoreConfig(1L << 30, 2, false, false, 4096, 1 << 20, true);
    List<byte[]> orphans = TestChunks.many(40_000, 96, 64 * 1024);
    List<byte[]> kept = TestChunks.many(50_000, 32, 64 * 1024); // 8 MiB in all, a quarter kept
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      store.manifests().accept(TestManifests.ofContents("c", 1, kept));
      for (int i = 0; i < kept.size(); i++) { // every blob file holds both kinds
        putAll(store, List.of(orphans.get(3 * i), orphans.get(3 * i + 1), orphans.get(3 * i + 2),
            kept.get(i)));
      }

      GcStats stats = store.gc();

      assertEquals(96, stats.chunksRemoved());
      // every blob file still holds a live chunk: without blob GC all 8 MiB would stay (measured:
      // 6.8 MB with it; the newest half of the blob files keeps its garbage, age cutoff 0.5)
      assertTrue(store.diskBytes() < (8L << 20) * 9 / 10, "disk after: " + store.diskBytes());
      for (byte[] k : kept) {
        assertArrayEquals(k, store.chunks().get(ChunkId.hash(k)));
      }
    }
  }

}
