package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.trust.ManifestId;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HaveMapTest {
  private static final ManifestId M = Ids.manifest("m");

  @Test
  void bitsAreLeastSignificantFirstPerByte() {
    HaveMap map = new HaveMap(10);
    map.set(0);
    map.set(3);
    map.set(9);
    byte[] bits = map.toProto(M).getBits().toByteArray();
    assertArrayEquals(new byte[] {0b0000_1001, 0b0000_0010}, bits);
  }

  @Test
  void roundTripsThroughProtoForEverySize() throws Exception {
    Random random = new Random(1);
    for (int n = 0; n <= 70; n++) {
      HaveMap map = new HaveMap(n);
      for (int i = 0; i < n; i++) {
        if (random.nextBoolean()) {
          map.set(i);
        }
      }
      io.patchmesh.proto.HaveMap proto = map.toProto(M);
      HaveMap back = HaveMap.fromProto(proto, M, n);
      assertEquals(map, back);
      assertEquals(map.count(), back.count());
      if (!map.isComplete()) {
        assertEquals((n + 7) / 8, proto.getBits().size());
      }
    }
  }

  @Test
  void fullMapUsesCompleteShortcutWithoutBits() throws Exception {
    HaveMap full = HaveMap.complete(1000);
    io.patchmesh.proto.HaveMap proto = full.toProto(M);
    assertTrue(proto.getComplete());
    assertTrue(proto.getBits().isEmpty());
    HaveMap back = HaveMap.fromProto(proto, M, 1000);
    assertTrue(back.isComplete());
    assertEquals(1000, back.count());
  }

  @Test
  void emptyManifestIsCompleteAtOnce() throws Exception {
    HaveMap empty = new HaveMap(0);
    assertTrue(empty.isComplete());
    assertTrue(HaveMap.fromProto(empty.toProto(M), M, 0).isComplete());
  }

  @Test
  void countsEachChunkOnce() {
    HaveMap map = new HaveMap(5);
    assertTrue(map.set(2));
    assertFalse(map.set(2));
    assertEquals(1, map.count());
    assertEquals(0, map.nextMissing(0));
    assertEquals(3, map.nextMissing(2));
    assertEquals(2, map.nextSetFrom(0));
  }

  @Test
  void rejectsIndexOutsideTheManifest() {
    HaveMap map = new HaveMap(5);
    assertThrows(IndexOutOfBoundsException.class, () -> map.set(5));
    assertThrows(IndexOutOfBoundsException.class, () -> map.has(-1));
  }

  @Test
  void rejectsChunkCountOtherThanTheManifests() {
    io.patchmesh.proto.HaveMap proto = new HaveMap(9).toProto(M);
    HaveMapException e = assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 8));
    assertTrue(e.getMessage().contains("chunk_count"));
  }

  @Test
  void rejectsHugeUnsignedChunkCount() {
    io.patchmesh.proto.HaveMap proto =
        io.patchmesh.proto.HaveMap.newBuilder().setManifestId(M.toByteString()).setChunkCount(-1).build();
    assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 8));
  }

  @Test
  void rejectsBitsOfWrongLength() {
    for (int len : new int[] {0, 1, 3}) {
      io.patchmesh.proto.HaveMap proto =
          io.patchmesh.proto.HaveMap.newBuilder()
              .setManifestId(M.toByteString())
              .setChunkCount(9)
              .setBits(ByteString.copyFrom(new byte[len]))
              .build();
      assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 9), "length " + len);
    }
  }

  @Test
  void rejectsTrailingBitsBeyondChunkCount() {
    io.patchmesh.proto.HaveMap proto =
        io.patchmesh.proto.HaveMap.newBuilder()
            .setManifestId(M.toByteString())
            .setChunkCount(9)
            .setBits(ByteString.copyFrom(new byte[] {0, 0b10}))
            .build();
    HaveMapException e = assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 9));
    assertTrue(e.getMessage().contains("beyond"));
  }

  @Test
  void rejectsCompleteFlagCombinedWithBits() {
    io.patchmesh.proto.HaveMap proto =
        io.patchmesh.proto.HaveMap.newBuilder()
            .setManifestId(M.toByteString())
            .setChunkCount(8)
            .setComplete(true)
            .setBits(ByteString.copyFrom(new byte[] {(byte) 0xff}))
            .build();
    assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 8));
  }

  @Test
  void rejectsHaveMapOfAnotherManifest() {
    io.patchmesh.proto.HaveMap proto = new HaveMap(8).toProto(Ids.manifest("other"));
    assertThrows(HaveMapException.class, () -> HaveMap.fromProto(proto, M, 8));
  }

  @Test
  void copiesAreIndependent() {
    HaveMap a = new HaveMap(4);
    HaveMap b = a.copy();
    b.set(1);
    assertFalse(a.has(1));
    assertEquals(0, a.count());
  }
}
