package io.patchmesh.transfer.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.ChunkParams;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.trust.ManifestLimits;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.SigningKey;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The simulated patch as the nodes' fetching cores get it: a real manifest of one file, signed by a
 * key derived from the scenario's seed and verified by the real {@link ManifestVerifier} against a
 * trust root of that key, once for the whole swarm (every node holds the same verified manifest).
 * Its chunk ids are hashes of names, not of contents: the simulated store decides what verifies.
 */
final class SimManifest {
  /** The simulation's fixed "now" for signing and verifying: runs do not depend on the wall clock. */
  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private SimManifest() {}

  static VerifiedManifest build(long seed, int chunkCount, long sizeBytes, int chunkBytes) {
    byte[] keySeed = new byte[SigningKey.SEED_LENGTH];
    ByteBuffer.wrap(keySeed).putLong(seed);
    SigningKey key = SigningKey.fromSeed(keySeed);
    TrustedRoot root = TrustRootVerifier.verifyInitial(TrustRootSigner.sign(new TrustRootBuilder()
        .rootKey(key.verifyKey(), "sim")
        .rootThreshold(1)
        .publisher("sim/**", 1, key.verifyKey())
        .expires(NOW.plus(Duration.ofDays(365)))
        .build(), List.of(key)), NOW);
    Manifest.Builder m = Manifest.newBuilder()
        .setFormat(ManifestVerifier.FORMAT)
        .setChannel("sim/patch")
        .setVersion(1)
        .setCreatedUnix(NOW.getEpochSecond() - 60)
        .setExpiresUnix(NOW.plus(Duration.ofDays(30)).getEpochSecond());
    FileEntry.Builder file = FileEntry.newBuilder().setPath("payload.bin").setMode(0644).setSize(sizeBytes)
        .setSha256(ChunkId.hash(("payload-" + seed).getBytes(StandardCharsets.UTF_8)).toByteString());
    for (int i = 0; i < chunkCount; i++) {
      int size = (int) Math.min(chunkBytes, sizeBytes - (long) i * chunkBytes);
      ByteString id = ChunkId.hash(("chunk-" + seed + "-" + i).getBytes(StandardCharsets.UTF_8)).toByteString();
      m.addChunks(ChunkRef.newBuilder().setId(id).setSize(size));
      file.addChunkIndex(i);
    }
    m.addFiles(file)
        .setLimits(Limits.newBuilder().setTotalBytes(sizeBytes).setChunkCount(chunkCount).setFileCount(1))
        .setChunkParams(ChunkParams.newBuilder().setMinSize(Math.min(1024, chunkBytes)).setAvgSize(chunkBytes)
            .setMaxSize(chunkBytes));
    ManifestVerifier verifier = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxChunkSize(Math.max(chunkBytes,
        ManifestLimits.DEFAULTS.maxChunkSize())));
    return verifier.verify(ManifestSigner.sign(m.build(), List.of(key)), root, VersionFloor.NONE, NOW);
  }
}
