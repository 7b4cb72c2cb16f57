package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {
  @TempDir Path dir;

  @Test
  void rejectsChunkWhoseBytesDoNotMatchItsIdAndStoresNothing() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      byte[] good = TestChunks.random(1, 64 * 1024);
      ChunkId id = ChunkId.hash(good);
      byte[] tampered = good.clone();
      tampered[12345] ^= 1;

      CorruptChunkException e =
          assertThrows(CorruptChunkException.class, () -> store.chunks().put(id, tampered));

      assertEquals(id, e.chunkId());
      assertFalse(store.chunks().has(id));
      assertNull(store.chunks().get(id));
      assertEquals(0, store.chunks().count());
      assertEquals(0, store.chunks().storedBytes());
      assertEquals(1, store.chunks().corruptRejected());
    }
  }

  @Test
  void storesVerifiedChunkAndReadsItBack() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      byte[] small = TestChunks.random(2, 100); // below the blob threshold
      byte[] large = TestChunks.random(3, 256 * 1024);

      assertTrue(store.chunks().put(ChunkId.hash(small), small));
      assertTrue(store.chunks().put(ChunkId.hash(large), large));

      assertArrayEquals(small, store.chunks().get(ChunkId.hash(small)));
      assertArrayEquals(large, store.chunks().get(ChunkId.hash(large)));
      assertNull(store.chunks().get(ChunkId.hash(new byte[] {1})));
      assertEquals(2, store.chunks().count());
      assertEquals(100 + 256 * 1024, store.chunks().storedBytes());
    }
  }

  @Test
  void duplicatePutReturnsFalseAndIsCounted() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      byte[] data = TestChunks.random(4, 64 * 1024);
      ChunkId id = ChunkId.hash(data);

      assertTrue(store.chunks().put(id, data));
      assertFalse(store.chunks().put(id, data));
      assertFalse(store.chunks().put(id, data.clone()));

      assertEquals(1, store.chunks().newPuts());
      assertEquals(2, store.chunks().duplicatePuts());
      assertEquals(1, store.chunks().count());
      assertEquals(data.length, store.chunks().storedBytes());
    }
  }

  @Test
  void chunksCountsAndBytesSurviveReopen() {
    List<byte[]> chunks = TestChunks.many(100, 50, 64 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      for (byte[] c : chunks) {
        store.chunks().put(ChunkId.hash(c), c);
      }
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(50, store.chunks().count());
      assertEquals(50L * 64 * 1024, store.chunks().storedBytes());
      for (byte[] c : chunks) {
        assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
      }
      // A verified chunk from before the restart is never stored (or fetched) again.
      assertFalse(store.chunks().put(ChunkId.hash(chunks.get(0)), chunks.get(0)));
      assertEquals(0, store.chunks().newPuts());
    }
  }

  @Test
  void concurrentPutsFromSeveralThreadsStoreEachChunkOnce() throws Exception {
    List<byte[]> chunks = TestChunks.many(1000, 64, 16 * 1024);
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicInteger stored = new AtomicInteger();
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t;
        futures.add(pool.submit(() -> {
          // Every thread puts every chunk, starting at a different place.
          for (int i = 0; i < chunks.size(); i++) {
            byte[] c = chunks.get((i + offset * 16) % chunks.size());
            if (store.chunks().put(ChunkId.hash(c), c)) {
              stored.incrementAndGet();
            }
          }
        }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertEquals(64, stored.get());
      assertEquals(64, store.chunks().count());
      assertEquals(64L * 16 * 1024, store.chunks().storedBytes());
      assertEquals(64, store.chunks().newPuts());
      assertEquals(64L * (threads - 1), store.chunks().duplicatePuts());
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void refusesPutBeyondQuotaWhenEverythingIsReferenced() {
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(4 * 64 * 1024);
    List<byte[]> chunks = TestChunks.many(200, 5, 64 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("c", 1, chunks));
      for (int i = 0; i < 4; i++) {
        assertTrue(store.chunks().put(ChunkId.hash(chunks.get(i)), chunks.get(i)));
      }
      // A duplicate into the full store is a duplicate: no refusal, no collection.
      assertFalse(store.chunks().put(ChunkId.hash(chunks.get(2)), chunks.get(2)));
      assertEquals(1, store.chunks().duplicatePuts());
      assertEquals(0, store.chunks().stats().quotaRefusals());
      assertEquals(0, store.collector().runs(), "a duplicate needs no room");

      StoreFullException e = assertThrows(StoreFullException.class,
          () -> store.chunks().put(ChunkId.hash(chunks.get(4)), chunks.get(4)));

      assertTrue(e.getMessage().contains("quota of 262144 bytes"), e.getMessage());
      assertFalse(store.chunks().has(ChunkId.hash(chunks.get(4))));
      assertEquals(4, store.chunks().count());
      assertEquals(1, store.chunks().stats().quotaRefusals());

      // Nothing changed since the fruitless GC: a second refusal does not rescan the store.
      assertThrows(StoreFullException.class,
          () -> store.chunks().put(ChunkId.hash(chunks.get(4)), chunks.get(4)));
      assertEquals(1, store.collector().runs());
    }
  }

  @Test
  void aDuplicateWithRoomToSpareLeavesTheQuotaAsItWas() {
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(2 * 64 * 1024);
    byte[] data = TestChunks.random(202, 64 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      assertTrue(store.chunks().put(ChunkId.hash(data), data));
      for (int i = 0; i < 3; i++) {
        assertFalse(store.chunks().put(ChunkId.hash(data), data));
      }
      // Had a duplicate kept its reservation, this second chunk would not fit.
      byte[] other = TestChunks.random(203, 64 * 1024);
      assertTrue(store.chunks().put(ChunkId.hash(other), other));
      assertEquals(0, store.chunks().stats().quotaRefusals());
    }
  }

  @Test
  void verifyOnReadDropsAChunkWhoseStoredBytesRotted() throws Exception {
    byte[] data = TestChunks.random(500, 64 * 1024);
    ChunkId id = ChunkId.hash(data);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS.withVerifyOnRead(true))) {
      store.chunks().put(id, data);
      byte[] rotted = data.clone();
      rotted[0] ^= 1;
      // Under the verified API, as a flipped bit on disk would.
      StoredAt.of(store, id).overwrite(0, new byte[] {rotted[0]});

      assertNull(store.chunks().get(id));

      assertFalse(store.chunks().has(id));
      assertEquals(1, store.chunks().stats().corruptOnRead());
      assertEquals(0, store.chunks().count());
      assertTrue(store.chunks().put(id, data)); // fetched again, stored again
    }
  }

  @Test
  void fullQuotaRunsGcThatDropsUnreferencedChunksToMakeRoom() {
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(4 * 64 * 1024);
    List<byte[]> orphans = TestChunks.many(300, 4, 64 * 1024);
    byte[] wanted = TestChunks.random(400, 64 * 1024);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      for (byte[] c : orphans) {
        store.chunks().put(ChunkId.hash(c), c);
      }
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("c", 1, List.of(wanted)));

      assertTrue(store.chunks().put(ChunkId.hash(wanted), wanted));

      assertEquals(1, store.chunks().count());
      assertArrayEquals(wanted, store.chunks().get(ChunkId.hash(wanted)));
    }
  }

  @Test
  void duplicatePutsAreCountedOverEveryLifeOfTheStore() {
    byte[] chunk = TestChunks.random(9, 32 * 1024);
    ChunkId id = ChunkId.hash(chunk);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertTrue(store.chunks().put(id, chunk));
      assertFalse(store.chunks().put(id, chunk));
      assertEquals(1, store.chunks().lifetimeDuplicatePuts());
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(0, store.chunks().duplicatePuts(), "the per-open counter starts again");
      assertEquals(1, store.chunks().lifetimeDuplicatePuts(), "the lifetime counter survives a reopen");
      assertFalse(store.chunks().put(id, chunk));
      assertEquals(2, store.chunks().lifetimeDuplicatePuts());
    }
  }
}
