package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ChunkStore#put(ChunkId, ByteString)}: a received piece's bytes hashed and written where they
 * lie, whatever a ByteString holds them in (one array, several, a direct buffer); hashed before
 * anything is stored, the quota exact.
 */
class ChunkStoreByteStringTest {
  @TempDir Path dir;

  @Test
  void aParsedByteStringIsStoredAsItsBytes() throws Exception {
    byte[] data = TestChunks.random(1, 200_000);
    ChunkId id = ChunkId.hash(data);
    ByteString parsed = ByteString.copyFrom(data); // what parsing a frame gives
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertTrue(store.chunks().put(id, parsed));
      assertArrayEquals(data, StoredAt.of(store, id).read());
      assertArrayEquals(data, store.chunks().get(id));
      assertEquals(data.length, store.chunks().storedBytes());
      assertFalse(store.chunks().put(id, parsed), "a second put is a duplicate");
      assertEquals(1, store.chunks().duplicatePuts());
    }
  }

  @Test
  void aRopeAndADirectBufferAreHashedAndWrittenWhole() throws Exception {
    byte[] data = TestChunks.random(2, 100_000);
    ChunkId id = ChunkId.hash(data);
    ByteString rope = ByteString.copyFrom(data, 0, 30_000).concat(ByteString.copyFrom(data, 30_000, 70_000));
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
    ByteString offHeap = UnsafeByteOperations.unsafeWrap(direct);
    assertTrue(id.matches(rope));
    assertTrue(id.matches(offHeap));
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertTrue(store.chunks().put(id, rope));
      assertArrayEquals(data, store.chunks().get(id));
      store.chunks().delete(id);
      assertTrue(store.chunks().put(id, offHeap));
      assertArrayEquals(data, StoredAt.of(store, id).read());
      assertEquals(data.length, direct.remaining(), "the caller's buffer is not consumed");
      assertEquals(data.length, store.chunks().storedBytes());
    }
  }

  @Test
  void bytesThatDoNotHashToTheIdLeaveNothingAndNoQuotaTaken() throws Exception {
    byte[] data = TestChunks.random(3, 50_000);
    ChunkId id = ChunkId.hash(data);
    byte[] bad = data.clone();
    bad[49_999] ^= 1;
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(data.length);
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      assertFalse(id.matches(ByteString.copyFrom(bad)));
      assertThrows(CorruptChunkException.class, () -> store.chunks().put(id, ByteString.copyFrom(bad)));
      assertFalse(store.chunks().has(id));
      assertEquals(0, store.chunks().segments().all().stream().mapToLong(s -> s.length).sum());
      assertEquals(1, store.chunks().corruptRejected());
      assertTrue(store.chunks().put(id, ByteString.copyFrom(data)), "the whole quota is still free");
      assertEquals(data.length, store.chunks().storedBytes());
    }
  }
}
