package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkParams;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** Deterministic keys, roots and manifests for the trust tests. */
final class TrustFixtures {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  static final Instant IN_A_YEAR = NOW.plus(Duration.ofDays(365));
  static final String CHANNEL = "openssl/bookworm-amd64";

  static final SigningKey A = key(1);
  static final SigningKey B = key(2);
  static final SigningKey C = key(3);
  static final SigningKey D = key(4);
  static final SigningKey OUTSIDER = key(99);

  private TrustFixtures() {}

  /** A key from a fixed seed: every run signs the same bytes the same way. */
  static SigningKey key(int n) {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) n);
    return SigningKey.fromSeed(seed);
  }

  /** Root v1: root keys A, B, C (2 of 3); openssl/* published by 2 of A, B, C; tools/** by D alone. */
  static TrustRoot rootV1() {
    return new TrustRootBuilder()
        .rootKey(A.verifyKey(), "alice")
        .rootKey(B.verifyKey(), "bob")
        .rootKey(C.verifyKey(), "carol")
        .rootThreshold(2)
        .publisher("openssl/*", 2, A.verifyKey(), B.verifyKey(), C.verifyKey())
        .publisher("tools/**", 1, D.verifyKey())
        .expires(IN_A_YEAR)
        .build();
  }

  static SignedTrustRoot signedRootV1() {
    return TrustRootSigner.sign(rootV1(), List.of(A, B));
  }

  static TrustedRoot trustedRootV1() {
    return TrustRootVerifier.verifyInitial(signedRootV1(), NOW);
  }

  static ByteString hash(String s) {
    return ByteString.copyFrom(Sha256.digest().digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * A consistent manifest: two files, "bin/tool" (chunks 0 and 1: 100 + 50 bytes)
   * and "README" (chunk 2: 10 bytes).
   */
  static Manifest.Builder manifest(String channel, long version) {
    return Manifest.newBuilder()
        .setFormat(1)
        .setChannel(channel)
        .setVersion(version)
        .setCreatedUnix(NOW.getEpochSecond() - 60)
        .setExpiresUnix(NOW.plus(Duration.ofDays(30)).getEpochSecond())
        .addChunks(ChunkRef.newBuilder().setId(hash("c0")).setSize(100))
        .addChunks(ChunkRef.newBuilder().setId(hash("c1")).setSize(50))
        .addChunks(ChunkRef.newBuilder().setId(hash("c2")).setSize(10))
        .addFiles(
            FileEntry.newBuilder()
                .setPath("bin/tool")
                .setMode(0755)
                .setSize(150)
                .setSha256(hash("bin/tool"))
                .addChunkIndex(0)
                .addChunkIndex(1))
        .addFiles(
            FileEntry.newBuilder()
                .setPath("README")
                .setMode(0644)
                .setSize(10)
                .setSha256(hash("README"))
                .addChunkIndex(2))
        .setLimits(Limits.newBuilder().setTotalBytes(160).setChunkCount(3).setFileCount(2))
        .setChunkParams(ChunkParams.newBuilder().setMinSize(8).setAvgSize(64).setMaxSize(256));
  }

  static Manifest.Builder manifest() {
    return manifest(CHANNEL, 7);
  }

  /** A copy with bit 0 of byte {@code i} flipped. */
  static byte[] flip(byte[] bytes, int i) {
    byte[] copy = bytes.clone();
    copy[i] ^= 1;
    return copy;
  }

  /** Where {@code needle} first occurs in {@code hay}. */
  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
