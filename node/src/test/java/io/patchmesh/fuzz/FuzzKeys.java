package io.patchmesh.fuzz;

import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.SigningKey;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Fixed keys and a fixed trust root for the fuzz targets: every run signs the same bytes, so a
 * failing seed replays. These keys are public by construction; they only ever sign fuzz input.
 */
final class FuzzKeys {
  /** The fuzzers' clock: verification is judged at this instant. */
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  static final String CHANNEL = "fuzz/linux-amd64";
  static final SigningKey A = key(11);
  static final SigningKey B = key(12);
  static final SigningKey C = key(13);

  private FuzzKeys() {}

  static SigningKey key(int n) {
    byte[] seed = new byte[SigningKey.SEED_LENGTH];
    Arrays.fill(seed, (byte) n);
    return SigningKey.fromSeed(seed);
  }

  /** Root keys A, B (2 of 2); fuzz/* published by 2 of A, B, C. */
  static TrustRoot root() {
    return new TrustRootBuilder()
        .rootKey(A.verifyKey(), "fuzz-a")
        .rootKey(B.verifyKey(), "fuzz-b")
        .rootThreshold(2)
        .publisher("fuzz/*", 2, A.verifyKey(), B.verifyKey(), C.verifyKey())
        .expires(NOW.plus(Duration.ofDays(365)))
        .build();
  }

  static SignedTrustRoot signedRoot() {
    return TrustRootSigner.sign(root(), List.of(A, B));
  }

  static TrustedRoot trustedRoot() {
    return TrustRootVerifier.verifyInitial(signedRoot(), NOW);
  }
}
