package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import java.util.List;
import java.util.Map;

/**
 * Builds {@link VerifiedManifest}s for tests outside the trust package, without keys or a
 * verifier. The signature is a placeholder: nothing here checks it.
 */
public final class TestManifests {
  private TestManifests() {}

  /** A manifest of one file made of {@code chunks} (ids with their chunk bytes' sizes). */
  public static VerifiedManifest of(String channel, long version, Map<ChunkId, Integer> chunks) {
    Manifest.Builder m = Manifest.newBuilder()
        .setFormat(1)
        .setChannel(channel)
        .setVersion(version)
        .setCreatedUnix(1_700_000_000L)
        .setExpiresUnix(1_900_000_000L);
    FileEntry.Builder file = FileEntry.newBuilder().setPath("payload.bin").setMode(0644);
    long total = 0;
    int index = 0;
    for (Map.Entry<ChunkId, Integer> c : chunks.entrySet()) {
      m.addChunks(ChunkRef.newBuilder().setId(c.getKey().toByteString()).setSize(c.getValue()));
      file.addChunkIndex(index++);
      total += c.getValue();
    }
    file.setSize(total).setSha256(ByteString.copyFrom(new byte[32]));
    m.addFiles(file);
    m.setLimits(Limits.newBuilder()
        .setTotalBytes(total)
        .setChunkCount(chunks.size())
        .setFileCount(1));
    byte[] bytes = m.build().toByteArray();
    SignedManifest signed = SignedManifest.newBuilder()
        .setManifest(ByteString.copyFrom(bytes))
        .addSignatures(Signature.newBuilder()
            .setKeyId("00".repeat(32))
            .setSignature(ByteString.copyFrom(new byte[64])))
        .build();
    return new VerifiedManifest(ManifestId.ofManifestBytes(bytes), signed, m.build(),
        new PublisherPolicy(ChannelPattern.of("**"), java.util.List.of("test"), 1));
  }

  /** A manifest whose chunks are the ids of the given chunk contents. */
  public static VerifiedManifest ofContents(String channel, long version, List<byte[]> contents) {
    Map<ChunkId, Integer> chunks = new java.util.LinkedHashMap<>();
    for (byte[] c : contents) {
      chunks.put(ChunkId.hash(c), c.length);
    }
    return of(channel, version, chunks);
  }

  /**
   * {@code vm} as if a (buggy) verifier had let {@code policy} authorize it: for tests of the checks
   * the apply repeats where it writes.
   */
  public static VerifiedManifest withPolicy(VerifiedManifest vm, PublisherPolicy policy) {
    return new VerifiedManifest(vm.id(), vm.signed(), vm.manifest(), policy);
  }
}
