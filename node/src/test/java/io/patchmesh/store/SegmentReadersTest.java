package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Segments' kept read handles: a read to serve opens nothing once its segment is open (BENCHMARKS 13ba). */
class SegmentReadersTest {
  @TempDir Path dir;

  @Test
  void readsOfOneSegmentOpenItOnce() throws Exception {
    List<byte[]> cs = TestChunks.many(1, 20, 40 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      putAll(store, cs);
      SegmentReaders readers = store.chunks().segments().readers();
      for (int round = 0; round < 3; round++) {
        assertAllRead(store, cs);
      }
      assertEquals(1, readers.opens(), "60 reads of one segment, one open");
      assertEquals(1, readers.openCount());
    }
  }

  @Test
  void moreSegmentsThanKeptAreReadInTurnAndAtMostTheLimitStaysOpen() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(128 * 1024);
    List<byte[]> cs = TestChunks.many(30, 40, 60 * 1024); // two per segment: 20 segments
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      putAll(store, cs);
      SegmentReaders readers = store.chunks().segments().readers();
      for (int round = 0; round < 2; round++) {
        for (byte[] c : cs) {
          assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
          assertTrue(readers.openCount() <= SegmentReaders.MAX_OPEN);
        }
      }
      assertEquals(40, readers.opens(), "each segment opened once per round: the two chunks of one share it");
    }
  }

  @Test
  void aCompactedSegmentIsClosedAndItsChunksAreReadWhereTheyMoved() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(128 * 1024);
    List<byte[]> cs = new ArrayList<>(TestChunks.many(80, 6, 60 * 1024));
    cs.set(3, TestChunks.random(99, 40 * 1024)); // seg-2: 60 + 40 KiB, under half live once the 60 go
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      putAll(store, cs);
      assertAllRead(store, cs); // all three segments open
      SegmentReaders readers = store.chunks().segments().readers();
      assertEquals(3, readers.openCount());
      store.chunks().delete(ChunkId.hash(cs.get(2))); // seg-2 mostly dead: compacted, its live chunk moved
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES);
      assertFalse(Files.exists(dir.resolve("chunks").resolve("seg-2")));
      assertNull(store.chunks().segments().get(2));
      assertTrue(readers.openCount() <= 3, "seg-2's handle is closed, the new segment's opened on reading");
      assertAllRead(store, List.of(cs.get(0), cs.get(1), cs.get(3), cs.get(4), cs.get(5)));
      assertNull(store.chunks().get(ChunkId.hash(cs.get(2))));
      assertEquals(0, store.chunks().stats().corruptOnRead());
    }
  }

  @Test
  void concurrentReadsOfSharedHandlesGetTheirOwnBytes() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(256 * 1024);
    List<byte[]> cs = TestChunks.many(200, 12, 50 * 1024); // 5 per segment: 3 segments
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      putAll(store, cs);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int first = t;
          done.add(pool.submit(() -> {
            int ok = 0;
            for (int i = 0; i < 300; i++) {
              byte[] c = cs.get((first + i * 7) % cs.size());
              if (Arrays.equals(c, store.chunks().get(ChunkId.hash(c)))) {
                ok++;
              }
            }
            return ok;
          }));
        }
        for (Future<Integer> f : done) {
          assertEquals(300, f.get(60, TimeUnit.SECONDS));
        }
      } finally {
        pool.shutdownNow();
      }
      assertTrue(store.chunks().segments().readers().openCount() <= 3);
    }
  }

  @Test
  void evictionDropAndCloseCloseHandlesAndReadsStillWork() throws Exception {
    Path root = Files.createDirectories(dir.resolve("chunks"));
    List<Segment> segs = new ArrayList<>();
    List<byte[]> bytes = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      byte[] b = TestChunks.random(300 + i, 10_000);
      Files.write(root.resolve(Segment.name(i)), b);
      segs.add(new Segment(root, i, b.length, b.length));
      bytes.add(b);
    }
    try (SegmentReaders readers = new SegmentReaders(2)) {
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(Arrays.copyOfRange(bytes.get(i), 100, 600), readers.read(segs.get(i), 100, 500));
      }
      assertEquals(2, readers.openCount(), "the least recently read closed");
      assertEquals(3, readers.opens());
      readers.read(segs.get(2), 0, 10);
      assertEquals(3, readers.opens(), "kept open");
      readers.read(segs.get(0), 0, 10);
      assertEquals(4, readers.opens(), "evicted before, opened again");
      readers.drop(segs.get(0));
      assertEquals(1, readers.openCount());
      assertNull(readers.read(segs.get(1), 9_995, 10), "past the file's end");
      Files.delete(root.resolve(Segment.name(1)));
      assertNull(readers.read(segs.get(0), 0, 10), "a file gone and not open reads as absent");
      readers.close();
      assertEquals(0, readers.openCount());
      assertArrayEquals(Arrays.copyOf(bytes.get(2), 50), readers.read(segs.get(2), 0, 50), "after close: read, not kept");
      assertEquals(0, readers.openCount());
    }
  }

  private static void putAll(NodeStore store, List<byte[]> chunks) {
    for (byte[] c : chunks) {
      store.chunks().put(ChunkId.hash(c), c);
    }
  }

  private static void assertAllRead(NodeStore store, List<byte[]> chunks) {
    for (byte[] c : chunks) {
      assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
    }
  }
}
