package io.patchmesh.transfer.delta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeltaCodecTest {
  private final DeltaEncoder encoder = new DeltaEncoder();

  private static byte[] roundTrip(DeltaEncoder enc, byte[] target, List<byte[]> bases) throws DeltaException {
    Delta d = enc.encode(target, bases);
    assertTrue(d.getOpsCount() <= DeltaLimits.MAX_OPS);
    return DeltaDecoder.decode(d, bases, target.length);
  }

  @Test
  void anyTargetRoundTripsAgainstAnyBases() throws Exception {
    Random r = new Random(1);
    for (int trial = 0; trial < 300; trial++) {
      int nb = r.nextInt(DeltaLimits.MAX_BASES + 1);
      List<byte[]> bases = new ArrayList<>();
      for (int i = 0; i < nb; i++) {
        bases.add(Edits.random(r, r.nextInt(20_000)));
      }
      byte[] target;
      if (nb > 0 && r.nextBoolean()) {
        byte[] b = bases.get(r.nextInt(nb));
        target = b.length == 0 ? Edits.random(r, 1 + r.nextInt(100)) : Edits.edit(b, r, 1 + r.nextInt(6), 1, 2000, true);
        if (target.length == 0) {
          target = new byte[] {1};
        }
      } else {
        target = Edits.random(r, 1 + r.nextInt(20_000));
      }
      assertArrayEquals(target, roundTrip(encoder, target, bases), "trial " + trial);
    }
  }

  @Test
  void repetitiveContentRoundTrips() throws Exception {
    byte[] base = new byte[64 * 1024]; // zeros: every block hashes alike
    byte[] target = new byte[70 * 1024];
    target[5000] = 7;
    assertArrayEquals(target, roundTrip(encoder, target, List.of(base)));
    Delta d = encoder.encode(target, List.of(base));
    assertTrue(d.getSerializedSize() < 100, "size " + d.getSerializedSize());
  }

  @Test
  void smallEditsCostAboutTheirOwnBytes() throws Exception {
    Random r = new Random(2);
    byte[] base = Edits.random(r, 32 * 1024);
    byte[] target = Edits.edit(base, r, 2, 1024, 4096, false);
    Delta d = encoder.encode(target, List.of(base));
    int edited = Math.abs(target.length - base.length) + 4096 * 2;
    assertTrue(d.getSerializedSize() <= edited + 200, d.getSerializedSize() + " bytes for ~" + edited);
    assertArrayEquals(target, DeltaDecoder.decode(d, List.of(base), target.length));
  }

  /** The measurement behind DeltaEncoder.BLOCK: delta bytes and time for 1-4 KiB edits of 32 KiB chunks. */
  @Test
  void blockSizeMeasurement() throws Exception {
    for (int block : new int[] {8, 16, 32, 64}) {
      DeltaEncoder enc = new DeltaEncoder(block);
      Random r = new Random(3);
      long bytes = 0;
      long nanos = 0;
      for (int i = 0; i < 200; i++) {
        byte[] a = Edits.random(r, 16 * 1024 + r.nextInt(48 * 1024));
        byte[] b = Edits.random(r, 16 * 1024 + r.nextInt(48 * 1024));
        byte[] target = Edits.edit(a, r, 1, 1024, 4096, false);
        long t0 = System.nanoTime();
        Delta d = enc.encode(target, List.of(b, a));
        nanos += System.nanoTime() - t0;
        bytes += d.getSerializedSize();
        assertArrayEquals(target, DeltaDecoder.decode(d, List.of(b, a), target.length));
      }
      System.out.printf("delta block %d: %d bytes for 200 chunks, %.1f ms encoding%n", block, bytes, nanos / 1e6);
    }
  }

  @Test
  void unrelatedTargetIsNotWorthADelta() {
    Random r = new Random(4);
    byte[] target = Edits.random(r, 32 * 1024);
    Delta d = encoder.encode(target, List.of(Edits.random(r, 32 * 1024)));
    assertTrue(d.getSerializedSize() > target.length * DeltaLimits.WORTHWHILE);
  }

  // ------------------------------------------------------------------ hostile deltas

  private static Delta ops(DeltaOp... ops) {
    return Delta.newBuilder().addAllOps(List.of(ops)).build();
  }

  private static DeltaOp copy(int base, int offset, int length) {
    return DeltaOp.newBuilder().setBase(base).setOffset(offset).setLength(length).build();
  }

  private static DeltaOp literal(int n) {
    return DeltaOp.newBuilder().setLiteral(ByteString.copyFrom(new byte[n])).build();
  }

  @Test
  void copyOutsideItsBaseIsRejected() {
    List<byte[]> bases = List.of(new byte[100]);
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 50, 51)), bases, 51));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, -1, 10)), bases, 10));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 10, -1)), bases, 10));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(1, 0, 10)), bases, 10));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(-1, 0, 10)), bases, 10));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 0, 0)), bases, 1));
  }

  @Test
  void outputMustHaveExactlyTheDeclaredSize() throws Exception {
    List<byte[]> bases = List.of(new byte[100]);
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 0, 50), literal(10)), bases, 61));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 0, 50), literal(10)), bases, 59));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(copy(0, 0, 100), copy(0, 0, 100)), bases, 150));
    assertEquals(60, DeltaDecoder.decode(ops(copy(0, 0, 50), literal(10)), bases, 60).length);
  }

  @Test
  void tooManyOpsOrNoneOrMixedOpsAreRejected() {
    List<byte[]> bases = List.of(new byte[100]);
    Delta.Builder many = Delta.newBuilder();
    for (int i = 0; i <= DeltaLimits.MAX_OPS; i++) {
      many.addOps(literal(1));
    }
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(many.build(), bases, DeltaLimits.MAX_OPS + 1));
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(Delta.getDefaultInstance(), bases, 1));
    DeltaOp mixed = DeltaOp.newBuilder().setLiteral(ByteString.copyFrom(new byte[3])).setLength(5).build();
    assertThrows(DeltaException.class, () -> DeltaDecoder.decode(ops(mixed), bases, 3));
  }
}
