package io.patchmesh.transfer.delta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A signed manifest as a delta against the previous version's signed bytes: size, exactness, bounds. */
class ManifestDeltaTest {
  static final SigningKey KEY = SigningKey.fromSeed(new byte[32]);

  @TempDir Path tmp;

  private SignedManifest manifest(byte[] content, long version) throws Exception {
    Path f = tmp.resolve("v" + version).resolve("lib.bin");
    Files.createDirectories(f.getParent());
    Files.write(f, content);
    var m = new ManifestBuilder(ChunkParams.DEFAULT).channel("test/md").version(version)
        .expires(Instant.now().plus(Duration.ofDays(1)))
        .build(List.of(f), (id, buf, off, len) -> { }, ProgressListener.NONE);
    return ManifestSigner.sign(m, List.of(KEY));
  }

  @Test
  void oneInsertionInA16MiBFileCostsAFewPerCentOfTheManifestAndRebuildsItExactly() throws Exception {
    Random r = new Random(1);
    byte[] v1 = Edits.random(r, 16 << 20);
    byte[] v2 = Edits.edit(v1, r, 1, 2000, 3000, false); // one insertion mid-file: later indexes shift
    SignedManifest m1 = manifest(v1, 1);
    SignedManifest m2 = manifest(v2, 2);
    byte[] envelope = m2.toByteArray();
    byte[] base = m1.getManifest().toByteArray();
    Delta d = ManifestDelta.encode(envelope, base).orElseThrow();
    System.out.printf("manifest delta: envelope %d B (%d chunks), delta %d B in %d ops%n",
        envelope.length, m2.getManifest().size() / 40, d.getSerializedSize(), d.getOpsCount());
    assertTrue(d.getSerializedSize() < envelope.length / 10, d.getSerializedSize() + " of " + envelope.length);
    assertArrayEquals(envelope, ManifestDelta.decode(d, base, envelope.length));
  }

  @Test
  void sixteenEditsStillRebuildExactlyAndAnUnrelatedBaseIsNotWorthADelta() throws Exception {
    Random r = new Random(2);
    byte[] v1 = Edits.random(r, 8 << 20);
    byte[] v2 = Edits.edit(v1, r, 16, 1024, 4096, true);
    SignedManifest m1 = manifest(v1, 1);
    byte[] envelope = manifest(v2, 2).toByteArray();
    Delta d = ManifestDelta.encode(envelope, m1.getManifest().toByteArray()).orElseThrow();
    assertArrayEquals(envelope, ManifestDelta.decode(d, m1.getManifest().toByteArray(), envelope.length));
    byte[] unrelated = manifest(Edits.random(r, 8 << 20), 3).getManifest().toByteArray();
    assertEquals(Optional.empty(), ManifestDelta.encode(envelope, unrelated), "no delta unless under half the envelope");
  }

  @Test
  void nothingIsEncodedOutsideTheLimits() {
    byte[] big = new byte[ManifestDeltaLimits.MAX_BYTES + 1];
    byte[] small = new byte[1000];
    assertEquals(Optional.empty(), ManifestDelta.encode(big, small));
    assertEquals(Optional.empty(), ManifestDelta.encode(small, big));
    assertEquals(Optional.empty(), ManifestDelta.encode(small, new byte[0]));
    assertTrue(ManifestDelta.encode(small, small).isPresent());
  }

  @Test
  void aDeltaOutsideTheLimitsIsRefusedBeforeAnythingIsAllocated() {
    Delta one = Delta.newBuilder().addOps(DeltaOp.newBuilder().setOffset(0).setLength(10)).build();
    assertNull(ManifestDelta.outOfBounds(one, 10));
    assertNotNull(ManifestDelta.outOfBounds(one, 0));
    assertNotNull(ManifestDelta.outOfBounds(one, ManifestDeltaLimits.MAX_BYTES + 1L), "a 64 MiB total is refused");
    assertNotNull(ManifestDelta.outOfBounds(one, Long.MAX_VALUE));
    assertNotNull(ManifestDelta.outOfBounds(Delta.getDefaultInstance(), 10), "no ops");
    Delta.Builder many = Delta.newBuilder();
    for (int i = 0; i <= ManifestDeltaLimits.MAX_OPS; i++) {
      many.addOps(DeltaOp.newBuilder().setOffset(0).setLength(1));
    }
    assertNotNull(ManifestDelta.outOfBounds(many.build(), ManifestDeltaLimits.MAX_OPS + 1));
    Delta fat = Delta.newBuilder().addOps(DeltaOp.newBuilder()
        .setLiteral(ByteString.copyFrom(new byte[ManifestDeltaLimits.MAX_DELTA_BYTES]))).build();
    assertNotNull(ManifestDelta.outOfBounds(fat, ManifestDeltaLimits.MAX_DELTA_BYTES));
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(fat, new byte[10], ManifestDeltaLimits.MAX_DELTA_BYTES));
  }

  @Test
  void everyOpIsCheckedAgainstTheBaseAndTheLength() {
    byte[] base = new byte[100];
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, 90, 20), base, 20), "copy past the base");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, 0, 20), base, 10), "longer than announced");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, 0, 20), base, 30), "shorter than announced");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(1, 0, 20), base, 20), "a second base");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, -1, 20), base, 20), "offset 2^32-1");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, 0, -1), base, 20), "length 2^32-1");
    assertThrows(DeltaException.class, () -> ManifestDelta.decode(copy(0, 0, 20), new byte[ManifestDeltaLimits.MAX_BYTES + 1], 20));
  }

  @Test
  void theEncoderKeepsToItsOpLimit() {
    Random r = new Random(3);
    byte[] base = Edits.random(r, 1 << 20);
    byte[] target = Edits.edit(base, r, 2000, 40, 60, false); // ~4,000 ops unbounded
    Delta capped = new DeltaEncoder().encode(target, List.of(base), 100);
    assertTrue(capped.getOpsCount() <= 100, capped.getOpsCount() + " ops");
    assertThrows(IllegalArgumentException.class, () -> new DeltaEncoder().encode(target, List.of(new byte[1 << 24]), 100));
  }

  private static Delta copy(int base, int offset, int length) {
    return Delta.newBuilder().addOps(DeltaOp.newBuilder().setBase(base).setOffset(offset).setLength(length)).build();
  }
}
