package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunk bytes in segments: layout, crash and power-loss leftovers, damaged bytes and entries. */
class SegmentsTest {
  @TempDir Path dir;

  @Test
  void chunksAreAppendedToOneSegmentAndTheirEntriesSayWhere() throws Exception {
    byte[] a = TestChunks.random(1, 100_000);
    byte[] b = TestChunks.random(2, 50_000);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertTrue(store.chunks().put(ChunkId.hash(a), a));
      assertTrue(store.chunks().put(ChunkId.hash(b), b));
      StoredAt at = StoredAt.of(store, ChunkId.hash(b));
      assertEquals(dir.resolve("chunks").resolve("seg-1"), at.file());
      assertEquals(a.length, at.offset());
      assertArrayEquals(b, at.read());
      assertNull(store.db().get(Cf.CHUNKS, Keys.chunk(ChunkId.hash(a))), "no value in the database");
      assertEquals(List.of(dir.resolve("chunks").resolve("seg-1")), files());
    }
  }

  @Test
  void aFullSegmentIsSealedAndTheNextNumberIsNeverReused() throws Exception {
    StoreConfig cfg = StoreConfig.DEFAULTS.withSegmentBytes(128 * 1024);
    List<byte[]> cs = TestChunks.many(10, 6, 60 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      for (byte[] c : cs) {
        store.chunks().put(ChunkId.hash(c), c);
      }
      assertEquals(3, files().size(), "two chunks per 128 KiB segment");
      assertEquals(3, StoredAt.of(store, ChunkId.hash(cs.get(5))).segment());
      for (byte[] c : cs.subList(2, 4)) {
        store.chunks().delete(ChunkId.hash(c));
      }
      assertEquals(2L * 60 * 1024, store.chunks().deadBytes());
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES); // seg-2 holds nothing live: deleted
      assertFalse(Files.exists(dir.resolve("chunks").resolve("seg-2")));
    }
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      byte[] more = TestChunks.random(99, 100 * 1024);
      store.chunks().put(ChunkId.hash(more), more);
      assertEquals(4, StoredAt.of(store, ChunkId.hash(more)).segment(), "a new number, not 2");
      assertEquals(5, store.chunks().count());
    }
  }

  @Test
  void bytesAppendedButKilledBeforeTheEntryAreCutAtOpenAndAppendsGoOnThere() throws Exception {
    byte[] a = TestChunks.random(3, 64 * 1024);
    byte[] b = TestChunks.random(4, 32 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.chunks().put(ChunkId.hash(a), a);
    }
    Path seg = dir.resolve("chunks").resolve("seg-1");
    // What a put leaves when the process dies between its bytes and its index entry.
    Files.write(seg, new byte[5000], StandardOpenOption.APPEND);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(a.length, Files.size(seg), "the dead tail is cut");
      assertEquals(1, store.chunks().count());
      assertTrue(store.chunks().put(ChunkId.hash(b), b));
      assertEquals(a.length, StoredAt.of(store, ChunkId.hash(b)).offset());
      assertArrayEquals(a, store.chunks().get(ChunkId.hash(a)));
      assertArrayEquals(b, store.chunks().get(ChunkId.hash(b)));
    }
  }

  @Test
  void afterAPowerLossChunksBeyondTheDurableLengthAreHashedAgainAndDroppedIfWrong() throws Exception {
    byte[] a = TestChunks.random(5, 64 * 1024);
    byte[] b = TestChunks.random(6, 64 * 1024);
    StoredAt atB;
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.chunks().put(ChunkId.hash(a), a);
      store.chunks().put(ChunkId.hash(b), b);
      atB = StoredAt.of(store, ChunkId.hash(b));
    }
    // As after a power loss: the durable length recorded before b's bytes reached the disk, and
    // b's region holding whatever the disk had (zeros here).
    try (StoreDb db = StoreDb.open(dir, StoreConfig.DEFAULTS)) {
      db.write(new Batch().put(Cf.STATE, Keys.state(Segment.durableKey(1)), Keys.encodeLong(a.length)), true);
    }
    atB.overwrite(0, new byte[b.length]);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertFalse(store.chunks().has(ChunkId.hash(b)), "wrong bytes beyond the durable length dropped");
      assertArrayEquals(a, store.chunks().get(ChunkId.hash(a)));
      assertEquals(1, store.chunks().count());
      assertEquals(a.length, store.chunks().storedBytes());
      assertEquals(a.length, Files.size(atB.file()), "the tail past the last live chunk is cut");
      assertTrue(store.chunks().put(ChunkId.hash(b), b));
    }
  }

  @Test
  void corruptEntriesOutOfTheirSegmentAreDroppedAtOpenAndOnRead() throws Exception {
    byte[] a = TestChunks.random(7, 64 * 1024);
    byte[] b = TestChunks.random(8, 32 * 1024);
    byte[] c = TestChunks.random(9, 32 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.chunks().put(ChunkId.hash(a), a);
      store.chunks().put(ChunkId.hash(b), b);
      store.chunks().put(ChunkId.hash(c), c);
      byte[] key = Keys.chunk(ChunkId.hash(b));
      store.db().write(new Batch().put(Cf.CHUNK_INDEX, key, Keys.segmentEntry(b.length, 1, Long.MAX_VALUE - 5)), true);
      assertNull(store.chunks().get(ChunkId.hash(b)), "an offset out of the segment reads as absent");
      assertEquals(1, store.chunks().stats().corruptOnRead());
      key = Keys.chunk(ChunkId.hash(c));
      store.db().write(new Batch().put(Cf.CHUNK_INDEX, key, Keys.segmentEntry(c.length, 77, 0)), true);
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertFalse(store.chunks().has(ChunkId.hash(c)), "a segment that does not exist: dropped at open");
      assertEquals(1, store.chunks().count());
      assertArrayEquals(a, store.chunks().get(ChunkId.hash(a)));
    }
  }

  @Test
  void aFlippedBitIsCaughtWithVerifyOnRead() throws Exception {
    byte[] data = TestChunks.random(10, 64 * 1024);
    byte[] other = TestChunks.random(11, 32 * 1024);
    ChunkId id = ChunkId.hash(data);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS.withVerifyOnRead(true))) {
      store.chunks().put(id, data);
      store.chunks().put(ChunkId.hash(other), other);
      StoredAt.of(store, id).overwrite(100, new byte[] {(byte) (data[100] ^ 4)});
      assertNull(store.chunks().get(id));
      assertFalse(store.chunks().has(id));
      assertEquals(1, store.chunks().stats().corruptOnRead());
      assertEquals(other.length, store.chunks().storedBytes());
      assertArrayEquals(other, store.chunks().get(ChunkId.hash(other)));
      assertTrue(store.chunks().put(id, data)); // fetched again, stored again
      assertArrayEquals(data, store.chunks().get(id));
    }
  }

  @Test
  void aSegmentGoneWhileOpenReadsAsAbsentAndIsDropped() throws Exception {
    byte[] data = TestChunks.random(12, 64 * 1024);
    ChunkId id = ChunkId.hash(data);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.chunks().put(id, data);
      Files.delete(StoredAt.of(store, id).file());
      assertNull(store.chunks().get(id));
      assertFalse(store.chunks().has(id));
      assertEquals(0, store.chunks().count());
    }
  }

  private List<Path> files() throws IOException {
    try (Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }
}
