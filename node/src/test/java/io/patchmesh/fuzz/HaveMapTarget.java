package io.patchmesh.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.trust.ManifestId;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A peer's have-map, {@link HaveMap#fromProto}: the body of a HaveMap frame, parsed and checked
 * against the manifest it names (1,000 chunks here). Expected outcome: protobuf's
 * {@link InvalidProtocolBufferException} (the frame would not parse) or a {@link HaveMapException}.
 */
public final class HaveMapTarget implements FuzzTarget {
  static final int CHUNKS = 1000;
  private final ManifestId manifest = ManifestId.ofManifestBytes(new byte[] {1, 2, 3});
  private final byte[] valid;

  public HaveMapTarget() {
    HaveMap map = new HaveMap(CHUNKS);
    for (int i = 0; i < CHUNKS; i += 3) {
      map.set(i);
    }
    valid = map.toProto(manifest).toByteArray();
  }

  @Override
  public String name() {
    return "have-map";
  }

  @Override
  public byte[] generate(SplittableRandom r) {
    if (r.nextInt(4) == 0) {
      return extremeField(r).toByteArray();
    }
    return Mutations.any(r, valid, 3);
  }

  private io.patchmesh.proto.HaveMap extremeField(SplittableRandom r) {
    io.patchmesh.proto.HaveMap.Builder b = io.patchmesh.proto.HaveMap.newBuilder()
        .setManifestId(manifest.toByteString()).setChunkCount(CHUNKS);
    switch (r.nextInt(4)) {
      case 0 -> b.setChunkCount((int) Edges.longValue(r));
      case 1 -> b.setBits(ByteString.copyFrom(Mutations.randomBytes(r, 2 * bitsLength())));
      case 2 -> b.setComplete(true).setBits(ByteString.copyFrom(Mutations.randomBytes(r, 4)));
      default -> {
        byte[] bits = new byte[bitsLength()];
        Arrays.fill(bits, (byte) 0xff);
        b.setBits(ByteString.copyFrom(bits));
      }
    }
    return b.build();
  }

  private static int bitsLength() {
    return (CHUNKS + 7) / 8;
  }

  @Override
  public void feed(byte[] input) throws Exception {
    HaveMap.fromProto(io.patchmesh.proto.HaveMap.parseFrom(input), manifest, CHUNKS);
  }

  @Override
  public boolean expected(Throwable thrown) {
    return thrown instanceof HaveMapException || thrown instanceof InvalidProtocolBufferException;
  }
}
