package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the node loop may read a chunk to serve itself: only from a segment this process wrote
 * lately (its bytes in the page cache); a store opened from disk sends every read to a worker.
 */
class ChunkStoreGetIfRecentTest {
  @TempDir Path dir;

  @Test
  void aChunkThisProcessWroteIsReadAnAbsentOneIsNull() {
    List<byte[]> chunks = TestChunks.many(301, 2, 40 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("r", 1, chunks));
      ChunkId id = ChunkId.hash(chunks.get(0));
      store.chunks().put(id, chunks.get(0));
      assertArrayEquals(chunks.get(0), store.chunks().getIfRecent(id));
      assertNull(store.chunks().getIfRecent(ChunkId.hash(chunks.get(1))), "not held: null, as get says");
    }
  }

  @Test
  void chunksOnDiskFromAnEarlierRunAreNotRecent() {
    List<byte[]> chunks = TestChunks.many(302, 2, 40 * 1024);
    ChunkId first = ChunkId.hash(chunks.get(0));
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("r", 1, chunks));
      store.chunks().put(first, chunks.get(0));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertSame(ChunkStore.NOT_RECENT, store.chunks().getIfRecent(first), "written by another run: a worker reads it");
      assertArrayEquals(chunks.get(0), store.chunks().get(first), "still held and readable");
      store.chunks().put(ChunkId.hash(chunks.get(1)), chunks.get(1)); // this run's bytes, maybe in the same segment
      assertArrayEquals(chunks.get(1), store.chunks().getIfRecent(ChunkId.hash(chunks.get(1))));
      assertSame(ChunkStore.NOT_RECENT, store.chunks().getIfRecent(first), "still the earlier run's bytes");
    }
  }

  @Test
  void aSegmentsBytesAreRecentFromThisRunsFirstWriteForTenMinutesAfterItsLastWrite() {
    Segment s = new Segment(dir, 1, 0, 0);
    long t = 5_000_000_000L; // a nanoTime reading; only differences count
    long minute = 60_000_000_000L;
    assertFalse(s.writtenWithin(0, Long.MAX_VALUE, t), "never written here");
    s.written(4096, t);
    assertTrue(s.writtenWithin(4096, ChunkStore.RECENT_NANOS, t + 10 * minute), "ten minutes after the last write");
    assertFalse(s.writtenWithin(0, ChunkStore.RECENT_NANOS, t), "bytes below this run's first write are an earlier run's");
    assertFalse(s.writtenWithin(4096, ChunkStore.RECENT_NANOS, t + 11 * minute), "eleven minutes after: maybe evicted, not read on the loop");
    s.written(8192, t + 11 * minute);
    assertTrue(s.writtenWithin(4096, ChunkStore.RECENT_NANOS, t + 12 * minute), "a later write makes the segment recent again");
  }
}
