package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.trust.TestManifests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GC's dead bytes reclaimed: live chunks copied out of mostly dead segments, readers unharmed. */
class SegmentCompactorTest {
  @TempDir Path dir;

  @Test
  void aMostlyDeadSegmentIsRewrittenWhileReadersKeepReadingItsLiveChunks() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(256 * 1024);
    List<byte[]> kept = TestChunks.many(100, 4, 50 * 1024);
    List<byte[]> loose = TestChunks.many(200, 12, 50 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      store.manifests().accept(TestManifests.ofContents("c", 1, kept));
      for (int i = 0; i < kept.size(); i++) { // every segment: one kept chunk, three loose ones
        put(store, kept.get(i));
        for (int j = 0; j < 3; j++) {
          put(store, loose.get(3 * i + j));
        }
      }
      long segmentsBefore = store.chunks().segments().all().size();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      AtomicLong reads = new AtomicLong();
      Thread reader = new Thread(() -> {
        try {
          while (!stop.get() || reads.get() < 50) {
            for (byte[] k : kept) {
              assertArrayEquals(k, store.chunks().get(ChunkId.hash(k)));
              reads.incrementAndGet();
            }
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      reader.start();
      GcStats gc = store.gc(); // the sweep, then the compaction
      stop.set(true);
      reader.join();
      assertNull(failure.get(), () -> "reader: " + failure.get());

      assertEquals(12, gc.chunksRemoved());
      assertEquals(0, store.chunks().stats().corruptOnRead(), "no read saw a moved chunk as damaged");
      assertEquals(4, store.chunks().count());
      assertTrue(store.chunks().segments().all().size() < segmentsBefore);
      // Five chunks per segment; the active one (under 1 MiB, not compacted) holds a loose chunk.
      assertEquals(50 * 1024, store.chunks().deadBytes(), "every other mostly dead segment rewritten");
      assertEquals(5L * 50 * 1024, store.chunks().segmentBytes());
      assertFalse(Files.exists(dir.resolve("chunks").resolve("seg-1")));
    }
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      assertEquals(4, store.chunks().count());
      for (byte[] k : kept) {
        assertArrayEquals(k, store.chunks().get(ChunkId.hash(k)));
      }
    }
  }

  @Test
  void aRunCopiesAtMostItsBudgetAndTheNextRunGoesOn() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(1L << 20);
    int perSegment = 32; // 32 x 32 KiB = 1 MiB
    List<byte[]> kept = new ArrayList<>();
    List<byte[]> all = new ArrayList<>();
    for (int s = 0; s < 12; s++) {
      for (int i = 0; i < perSegment; i++) {
        byte[] c = TestChunks.random(1000 + s * perSegment + i, 32 * 1024);
        all.add(c);
        if (i % 8 < 3) {
          kept.add(c); // 3 of 8 kept: 37.5 % live, 384 KiB per segment
        }
      }
    }
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      store.manifests().accept(TestManifests.ofContents("c", 1, kept));
      for (byte[] c : all) {
        put(store, c);
      }
      store.manifests().mutation.lock(); // the sweep alone: GC compacts once it lets go
      try {
        store.gc();
      } finally {
        store.manifests().mutation.unlock();
      }
      long dead = store.chunks().deadBytes();
      assertEquals(12L * 640 * 1024, dead);
      store.chunks().compactSegments(1L << 20);
      long left = store.chunks().deadBytes();
      assertTrue(left < dead && left > 0, "a run stops after its budget: " + left);
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES);
      assertEquals(0, store.chunks().deadBytes());
      for (byte[] k : kept) {
        assertArrayEquals(k, store.chunks().get(ChunkId.hash(k)));
      }
      assertEquals(kept.size(), store.chunks().count());
    }
  }

  private static void put(NodeStore store, byte[] c) {
    store.chunks().put(ChunkId.hash(c), c);
  }
}
