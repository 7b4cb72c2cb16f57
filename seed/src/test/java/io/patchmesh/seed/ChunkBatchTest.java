package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The batch upload body's format: what a client builds parses back; anything malformed is refused whole. */
class ChunkBatchTest {
  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void aBuiltBodyParsesBackInOrder() {
    byte[] a = bytes(40_000, 1);
    byte[] b = bytes(0, 2);
    byte[] c = bytes(ChunkParams.MAX_CHUNK_BYTES, 3);
    byte[] body = new ChunkBatch.Builder().add(ChunkId.hash(a), a).add(ChunkId.hash(b), b).add(ChunkId.hash(c), c).toBytes();
    List<ChunkBatch.Entry> e = ChunkBatch.parse(body);
    assertEquals(3, e.size());
    assertEquals(List.of(ChunkId.hash(a), ChunkId.hash(b), ChunkId.hash(c)), e.stream().map(ChunkBatch.Entry::id).toList());
    assertArrayEquals(a, ChunkBatch.bytesOf(body, e.get(0)));
    assertArrayEquals(b, ChunkBatch.bytesOf(body, e.get(1)));
    assertArrayEquals(c, ChunkBatch.bytesOf(body, e.get(2)));
  }

  @Test
  void theBuilderKeepsBodiesWithinTheLimitButAlwaysTakesOneChunk() {
    ChunkBatch.Builder bb = new ChunkBatch.Builder();
    assertTrue(bb.fits(ChunkParams.MAX_CHUNK_BYTES));
    int n = 0;
    byte[] c = bytes(ChunkParams.MAX_CHUNK_BYTES, 4);
    while (bb.fits(c.length)) {
      bb.add(ChunkId.hash(c), c);
      n++;
    }
    assertEquals(3, n);
    assertTrue(bb.toBytes().length <= ChunkBatch.MAX_BODY_BYTES);
    assertFalse(bb.fits(ChunkBatch.MAX_BODY_BYTES - bb.toBytes().length - ChunkBatch.HEAD_BYTES + 1));
    assertTrue(bb.fits(ChunkBatch.MAX_BODY_BYTES - bb.toBytes().length - ChunkBatch.HEAD_BYTES));
    assertThrows(IllegalArgumentException.class, () -> new ChunkBatch.Builder().add(ChunkId.hash(new byte[1]), new byte[ChunkParams.MAX_CHUNK_BYTES + 1]));
  }

  static byte[] record(byte[] id, int length, byte[] data) {
    return ByteBuffer.allocate(id.length + 4 + data.length).put(id).putInt(length).put(data).array();
  }

  @Test
  void malformedBodiesAreRefusedWhole() {
    byte[] good = new ChunkBatch.Builder().add(ChunkId.hash(bytes(100, 5)), bytes(100, 5)).toBytes();
    byte[] id = new byte[ChunkId.LENGTH];
    assertThrows(IllegalArgumentException.class, () -> ChunkBatch.parse(new byte[0]), "empty");
    assertThrows(IllegalArgumentException.class, () -> ChunkBatch.parse(Arrays.copyOf(good, good.length + 10)), "a head cut short");
    assertThrows(IllegalArgumentException.class, () -> ChunkBatch.parse(Arrays.copyOf(good, good.length - 1)), "bytes cut short");
    assertThrows(IllegalArgumentException.class, () -> ChunkBatch.parse(record(id, -1, new byte[0])), "a negative length");
    assertThrows(IllegalArgumentException.class,
        () -> ChunkBatch.parse(record(id, ChunkParams.MAX_CHUNK_BYTES + 1, new byte[ChunkParams.MAX_CHUNK_BYTES + 1])), "above the chunk limit");
    assertThrows(IllegalArgumentException.class, () -> ChunkBatch.parse(new byte[ChunkBatch.MAX_BODY_BYTES + 1]), "above the body limit");
  }
}
