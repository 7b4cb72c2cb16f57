package io.patchmesh.trust;

import static io.patchmesh.trust.TrustFixtures.A;
import static io.patchmesh.trust.TrustFixtures.B;
import static io.patchmesh.trust.TrustFixtures.C;
import static io.patchmesh.trust.TrustFixtures.CHANNEL;
import static io.patchmesh.trust.TrustFixtures.D;
import static io.patchmesh.trust.TrustFixtures.IN_A_YEAR;
import static io.patchmesh.trust.TrustFixtures.NOW;
import static io.patchmesh.trust.TrustFixtures.OUTSIDER;
import static io.patchmesh.trust.TrustFixtures.manifest;
import static io.patchmesh.trust.TrustRootTest.assertReason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.trust.VerificationException.Reason;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestVerifierTest {
  private final ManifestVerifier verifier = new ManifestVerifier();
  private final TrustedRoot root = TrustFixtures.trustedRootV1();

  private VerifiedManifest verify(SignedManifest signed) {
    return verifier.verify(signed, root, VersionFloor.NONE, NOW);
  }

  private static SignedManifest signedByAB(Manifest m) {
    return ManifestSigner.sign(m, List.of(A, B));
  }

  private void assertRejected(Reason reason, UnaryOperator<Manifest.Builder> change) {
    SignedManifest signed = signedByAB(change.apply(manifest()).build());
    assertReason(reason, () -> verify(signed));
  }

  // ---- acceptance and round trip ----

  @Test
  void acceptsManifestSignedByThresholdOfAuthorizedKeys() {
    SignedManifest signed = signedByAB(manifest().build());
    VerifiedManifest v = verifier.verify(signed.toByteArray(), root, VersionFloor.NONE, NOW);
    assertEquals(CHANNEL, v.channel());
    assertEquals(7, v.version());
    assertEquals(ManifestId.ofManifestBytes(signed.getManifest().toByteArray()), v.id());
    assertEquals(signed, v.signed());
    assertEquals(manifest().build(), v.manifest());
  }

  @Test
  void acceptsAnEmptyManifest() {
    Manifest empty = manifest().clearFiles().clearChunks().setLimits(Limits.getDefaultInstance()).build();
    assertEquals(0, verify(signedByAB(empty)).manifest().getFilesCount());
  }

  // ---- signatures and thresholds ----

  @Test
  void rejectsTwoOfThreeWithOneSignature() {
    SignedManifest one = ManifestSigner.sign(manifest().build(), List.of(A));
    assertReason(Reason.THRESHOLD_NOT_MET, () -> verify(one));
  }

  @Test
  void acceptsTwoOfThreeWithTwoSignaturesAddedOneByOne() {
    SignedManifest one = ManifestSigner.sign(manifest().build(), List.of(C));
    SignedManifest two = ManifestSigner.addSignature(one, A);
    assertEquals(7, verify(two).version());
  }

  @Test
  void rejectsTheSameKeySigningTwiceBeforeCheckingAnySignature() {
    SignedManifest one = ManifestSigner.sign(manifest().build(), List.of(A));
    SignedManifest twice = one.toBuilder().addSignatures(one.getSignatures(0)).build();
    assertReason(Reason.MALFORMED, () -> verify(twice));
    assertEquals(0, verifier.signatureChecks(), "rejected before any Ed25519 check");
  }

  @Test
  void sixtyFourBadSignaturesNamingOneKnownKeyCostNoSignatureCheck() {
    SignedManifest one = ManifestSigner.sign(manifest().build(), List.of(A));
    SignedManifest.Builder forged = one.toBuilder().clearSignatures();
    for (int i = 0; i < 64; i++) {
      forged.addSignatures(Signature.newBuilder().setKeyId(A.keyId()).setSignature(ByteString.copyFrom(new byte[64])));
    }
    VerificationException e = assertThrows(VerificationException.class, () -> verify(forged.build()));
    assertEquals(Reason.MALFORMED, e.reason());
    assertEquals(0, verifier.signatureChecks(), e.getMessage());
  }

  @Test
  void eachDistinctKnownKeyIsCheckedAtMostOnceAndUnknownKeysCostNothing() {
    SignedManifest signed = ManifestSigner.sign(manifest().build(), List.of(OUTSIDER, A, B, D));
    verify(signed);
    assertEquals(3, verifier.signatureChecks(), "A, B and D are known; the outsider costs a look-up");
  }

  @Test
  void coSigningWithTheSameKeyReplacesItsSignature() {
    SignedManifest one = ManifestSigner.sign(manifest().build(), List.of(A));
    SignedManifest again = ManifestSigner.addSignature(one, A);
    assertEquals(1, again.getSignaturesCount());
    assertEquals(A.keyId(), again.getSignatures(0).getKeyId());
  }

  @Test
  void rejectsManifestSignedOnlyByUnknownKey() {
    SignedManifest signed = ManifestSigner.sign(manifest().build(), List.of(OUTSIDER));
    assertReason(Reason.UNKNOWN_KEY, () -> verify(signed));
  }

  @Test
  void ignoresUnknownKeysOnceThresholdIsMet() {
    SignedManifest signed = ManifestSigner.sign(manifest().build(), List.of(OUTSIDER, A, B));
    assertEquals(7, verify(signed).version());
  }

  @Test
  void rejectsManifestForChannelItsKeysMayNotPublish() {
    // D may publish tools/**, not openssl/*.
    SignedManifest signed = ManifestSigner.sign(manifest().build(), List.of(D));
    assertReason(Reason.CHANNEL_NOT_AUTHORIZED, () -> verify(signed));
  }

  @Test
  void rejectsManifestForChannelNoRuleCovers() {
    SignedManifest signed = ManifestSigner.sign(manifest("nginx/bookworm", 1).build(), List.of(A, B, C, D));
    assertReason(Reason.CHANNEL_NOT_AUTHORIZED, () -> verify(signed));
  }

  @Test
  void anyOneMatchingRuleSuffices() {
    TrustedRoot twoRules =
        TrustRootVerifier.verifyInitial(
            TrustRootSigner.sign(
                TrustRootBuilder.from(TrustFixtures.rootV1()).publisher("**", 1, D.verifyKey()).build(),
                List.of(A, B)),
            NOW);
    SignedManifest byD = ManifestSigner.sign(manifest().build(), List.of(D));
    assertEquals(7, verifier.verify(byD, twoRules, VersionFloor.NONE, NOW).version());
  }

  @Test
  void rejectsManifestWithAFlippedByteInTheManifestBytes() {
    SignedManifest signed = signedByAB(manifest().build());
    byte[] bytes = signed.getManifest().toByteArray();
    int at = TrustFixtures.indexOf(bytes, "bin/tool".getBytes());
    SignedManifest tampered = signed.toBuilder().setManifest(ByteString.copyFrom(TrustFixtures.flip(bytes, at))).build();
    assertReason(Reason.BAD_SIGNATURE, () -> verify(tampered));
  }

  @Test
  void rejectsEveryFlippedByteOfTheManifestBytes() {
    SignedManifest signed = signedByAB(manifest().build());
    byte[] bytes = signed.getManifest().toByteArray();
    for (int i = 0; i < bytes.length; i++) {
      SignedManifest tampered = signed.toBuilder().setManifest(ByteString.copyFrom(TrustFixtures.flip(bytes, i))).build();
      VerificationException e = assertThrows(VerificationException.class, () -> verify(tampered), "byte " + i);
      assertEquals(Reason.BAD_SIGNATURE, e.reason(), "byte " + i);
    }
  }

  @Test
  void rejectsManifestWithAFlippedByteInASignature() {
    SignedManifest signed = signedByAB(manifest().build());
    Signature s = signed.getSignatures(1);
    SignedManifest tampered =
        signed.toBuilder()
            .setSignatures(1, s.toBuilder().setSignature(ByteString.copyFrom(TrustFixtures.flip(s.getSignature().toByteArray(), 40))))
            .build();
    assertReason(Reason.BAD_SIGNATURE, () -> verify(tampered));
  }

  @Test
  void rejectsGarbageEnvelopeAsMalformed() {
    assertReason(Reason.MALFORMED, () -> verifier.verify(new byte[] {(byte) 0xff, 0x7f}, root, VersionFloor.NONE, NOW));
  }

  @Test
  void rejectsSignedGarbageAsMalformed() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff};
    SignedManifest signed = ManifestSigner.sign(garbage, List.of(A, B));
    assertReason(Reason.MALFORMED, () -> verify(signed));
  }

  @Test
  void rejectsUnknownManifestFormat() {
    assertRejected(Reason.UNSUPPORTED_FORMAT, m -> m.setFormat(2));
  }

  // ---- rotation ----

  @Test
  void keyRotatedOutOfTheRootNoLongerCounts() {
    SignedTrustRoot v2signed =
        TrustRootSigner.sign(
            TrustRootBuilder.successorOf(root)
                .removeKey(A.keyId())
                .publisher("openssl/*", 1, B.verifyKey(), C.verifyKey())
                .build(),
            List.of(B, C));
    TrustedRoot v2 = TrustRootVerifier.verifyRotation(root, v2signed, NOW);

    SignedManifest byA = ManifestSigner.sign(manifest().build(), List.of(A));
    assertReason(Reason.UNKNOWN_KEY, () -> verifier.verify(byA, v2, VersionFloor.NONE, NOW));
    SignedManifest byAB = signedByAB(manifest().build());
    // Under v2, openssl/* needs 2 of {B, C}, or 1 of {B, C}: B alone suffices, A is ignored.
    assertEquals(7, verifier.verify(byAB, v2, VersionFloor.NONE, NOW).version());
    SignedManifest byAD = ManifestSigner.sign(manifest().build(), List.of(A, D));
    assertReason(Reason.CHANNEL_NOT_AUTHORIZED, () -> verifier.verify(byAD, v2, VersionFloor.NONE, NOW));
  }

  // ---- time and versions ----

  @Test
  void rejectsVersionsOutsideOneToTwoToThe63MinusOne() {
    // the store and the gossip layer compare versions as signed longs: 0 and 2^63.. never get in
    assertRejected(Reason.MALFORMED, m -> m.setVersion(0));
    assertRejected(Reason.MALFORMED, m -> m.setVersion(Long.MIN_VALUE));
    assertRejected(Reason.MALFORMED, m -> m.setVersion(-1L));
    assertEquals(Long.MAX_VALUE, verify(signedByAB(manifest().setVersion(Long.MAX_VALUE).build())).version());
  }

  @Test
  void rejectsRolledBackVersion() {
    SignedManifest signed = signedByAB(manifest(CHANNEL, 3).build());
    VersionFloor floor = channel -> channel.equals(CHANNEL) ? 5 : 0;
    VerificationException e =
        assertThrows(VerificationException.class, () -> verifier.verify(signed, root, floor, NOW));
    assertEquals(Reason.ROLLBACK, e.reason());
    assertEquals(
        "rejected (rollback): openssl/bookworm-amd64 version 3 is not newer than accepted version 5", e.getMessage());
  }

  @Test
  void rejectsReplayOfTheAcceptedVersion() {
    SignedManifest signed = signedByAB(manifest(CHANNEL, 5).build());
    assertReason(Reason.ROLLBACK, () -> verifier.verify(signed, root, channel -> 5, NOW));
  }

  @Test
  void acceptsNextVersionAboveFloor() {
    SignedManifest signed = signedByAB(manifest(CHANNEL, 6).build());
    assertEquals(6, verifier.verify(signed, root, channel -> 5, NOW).version());
  }

  @Test
  void storedManifestSkipsOnlyTheRollbackCheck() {
    SignedManifest signed = signedByAB(manifest(CHANNEL, 5).build());
    assertEquals(5, verifier.verifyStored(signed.toByteArray(), root, NOW).version());
    SignedManifest one = ManifestSigner.sign(manifest(CHANNEL, 5).build(), List.of(A));
    assertReason(Reason.THRESHOLD_NOT_MET, () -> verifier.verifyStored(one, root, NOW));
    assertReason(Reason.EXPIRED, () -> verifier.verifyStored(signed, root, NOW.plus(Duration.ofDays(31))));
  }

  @Test
  void rejectsExpiredManifest() {
    SignedManifest signed = signedByAB(manifest().build());
    assertReason(Reason.EXPIRED, () -> verifier.verify(signed, root, VersionFloor.NONE, NOW.plus(Duration.ofDays(30))));
  }

  @Test
  void rejectsManifestWithoutExpiry() {
    assertRejected(Reason.EXPIRED, m -> m.setExpiresUnix(0));
  }

  @Test
  void rejectsSignedTimesThatInstantCannotHold() {
    // Found by the fuzzer: these escaped as DateTimeException (expiry here, not-before in the runtime).
    assertRejected(Reason.MALFORMED, m -> m.setExpiresUnix(Long.MAX_VALUE));
    assertRejected(Reason.MALFORMED, m -> m.setExpiresUnix(Long.MIN_VALUE));
    assertRejected(Reason.MALFORMED, m -> m.setCreatedUnix(1L << 62));
    assertRejected(Reason.MALFORMED, m -> {
      m.getRolloutBuilder().setNotBeforeUnix(1L << 62);
      return m;
    });
  }

  @Test
  void rejectsEverythingUnderAnExpiredRoot() {
    SignedManifest signed = signedByAB(manifest().setExpiresUnix(IN_A_YEAR.plusSeconds(10).getEpochSecond()).build());
    assertReason(Reason.ROOT_EXPIRED, () -> verifier.verify(signed, root, VersionFloor.NONE, IN_A_YEAR));
  }

  // ---- structure ----

  @ParameterizedTest
  @ValueSource(strings = {"../etc/passwd", "a/../../b", "a/./b", ".", "a//b", "a/", "a\\b", "nul\u0000byte", ""})
  void rejectsPathThatIsNotRelativeAndNormalized(String path) {
    assertRejected(Reason.BAD_PATH, m -> m.setFiles(1, m.getFiles(1).toBuilder().setPath(path)));
  }

  @Test
  void rejectsAbsolutePath() {
    assertRejected(Reason.BAD_PATH, m -> m.setFiles(1, m.getFiles(1).toBuilder().setPath("/etc/passwd")));
  }

  @Test
  void rejectsOverlongPath() {
    String path = "d/".repeat(2048) + "f";
    assertRejected(Reason.BAD_PATH, m -> m.setFiles(1, m.getFiles(1).toBuilder().setPath(path)));
  }

  @Test
  void acceptsPathsWithDotsInsideNames() {
    Manifest.Builder m = manifest();
    m.setFiles(1, m.getFiles(1).toBuilder().setPath("..hidden/a..b/.c"));
    assertEquals(2, verify(signedByAB(m.build())).manifest().getFilesCount());
  }

  @Test
  void rejectsDuplicatePath() {
    assertRejected(Reason.DUPLICATE_PATH, m -> m.setFiles(1, m.getFiles(1).toBuilder().setPath("bin/tool")));
  }

  @Test
  void rejectsPathThatIsBothFileAndDirectory() {
    assertRejected(Reason.DUPLICATE_PATH, m -> m.setFiles(1, m.getFiles(1).toBuilder().setPath("bin/tool/x")));
  }

  @Test
  void rejectsSetuidMode() {
    assertRejected(Reason.BAD_MODE, m -> m.setFiles(0, m.getFiles(0).toBuilder().setMode(04755)));
  }

  @Test
  void rejectsFileHashThatIsNotSha256() {
    assertRejected(Reason.MALFORMED, m -> m.setFiles(0, m.getFiles(0).toBuilder().setSha256(ByteString.copyFrom(new byte[31]))));
  }

  @Test
  void rejectsChunkIdThatIsNotSha256() {
    assertRejected(Reason.MALFORMED, m -> m.setChunks(0, m.getChunks(0).toBuilder().setId(ByteString.copyFrom(new byte[33]))));
  }

  @Test
  void rejectsFileSizeThatDisagreesWithItsChunks() {
    assertRejected(
        Reason.SIZE_MISMATCH,
        m -> m.setFiles(0, m.getFiles(0).toBuilder().setSize(151)).setLimits(m.getLimits().toBuilder().setTotalBytes(161)));
  }

  @Test
  void rejectsTotalThatDisagreesWithFileSizes() {
    assertRejected(Reason.SIZE_MISMATCH, m -> m.setLimits(m.getLimits().toBuilder().setTotalBytes(159)));
  }

  @Test
  void rejectsChunkIndexOutOfRange() {
    assertRejected(Reason.CHUNK_INDEX_OUT_OF_RANGE, m -> m.setFiles(1, m.getFiles(1).toBuilder().setChunkIndex(0, 3)));
  }

  @Test
  void rejectsChunkIndexAboveTwoToThe31() {
    assertRejected(Reason.CHUNK_INDEX_OUT_OF_RANGE, m -> m.setFiles(1, m.getFiles(1).toBuilder().setChunkIndex(0, -1)));
  }

  @Test
  void rejectsDuplicateChunk() {
    assertRejected(
        Reason.BAD_CHUNK, m -> m.setChunks(2, m.getChunks(2).toBuilder().setId(m.getChunks(0).getId())));
  }

  @Test
  void rejectsEmptyChunk() {
    assertRejected(Reason.BAD_CHUNK, m -> m.setChunks(2, m.getChunks(2).toBuilder().setSize(0)));
  }

  @Test
  void rejectsChunkLargerThanTheDeclaredMaximum() {
    assertRejected(
        Reason.BAD_CHUNK,
        m -> m.setChunks(2, m.getChunks(2).toBuilder().setSize(300))
            .setFiles(1, m.getFiles(1).toBuilder().setSize(300))
            .setLimits(m.getLimits().toBuilder().setTotalBytes(450)));
  }

  @Test
  void rejectsChunkUsedByNoFile() {
    assertRejected(
        Reason.BAD_CHUNK,
        m -> m.addChunks(ChunkRef.newBuilder().setId(TrustFixtures.hash("c3")).setSize(5))
            .setLimits(m.getLimits().toBuilder().setChunkCount(4)));
  }

  @Test
  void rejectsDeclaredCountsThatDisagreeWithTheLists() {
    assertRejected(Reason.INCONSISTENT, m -> m.setLimits(m.getLimits().toBuilder().setFileCount(3)));
    assertRejected(Reason.INCONSISTENT, m -> m.setLimits(m.getLimits().toBuilder().setChunkCount(2)));
  }

  // ---- hard caps ----

  @Test
  void rejectsChunkAboveTheHardChunkSizeCap() {
    ManifestVerifier small = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxChunkSize(64));
    SignedManifest signed = signedByAB(manifest().build());
    assertReason(Reason.LIMITS_EXCEEDED, () -> small.verify(signed, root, VersionFloor.NONE, NOW));
  }

  @Test
  void rejectsManifestAboveTheTotalBytesCapEvenIfConsistent() {
    ManifestVerifier small = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxTotalBytes(159));
    SignedManifest signed = signedByAB(manifest().build());
    assertReason(Reason.LIMITS_EXCEEDED, () -> small.verify(signed, root, VersionFloor.NONE, NOW));
  }

  @Test
  void rejectsDeclaredEndlessData() {
    assertRejected(Reason.LIMITS_EXCEEDED, m -> m.setLimits(m.getLimits().toBuilder().setTotalBytes(-1L)));
    assertRejected(
        Reason.LIMITS_EXCEEDED,
        m -> m.setFiles(1, m.getFiles(1).toBuilder().setSize(1L << 40)));
  }

  @Test
  void rejectsTooManyFilesAndChunks() {
    SignedManifest signed = signedByAB(manifest().build());
    ManifestVerifier fewFiles = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxFiles(1));
    ManifestVerifier fewChunks = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxChunks(2));
    assertReason(Reason.LIMITS_EXCEEDED, () -> fewFiles.verify(signed, root, VersionFloor.NONE, NOW));
    assertReason(Reason.LIMITS_EXCEEDED, () -> fewChunks.verify(signed, root, VersionFloor.NONE, NOW));
  }

  @Test
  void rejectsOversizedManifestBeforeCheckingSignatures() {
    ManifestVerifier small = new ManifestVerifier(ManifestLimits.DEFAULTS.withMaxSignedManifestBytes(100));
    SignedManifest signed = signedByAB(manifest().build());
    assertReason(Reason.LIMITS_EXCEEDED, () -> small.verify(signed, root, VersionFloor.NONE, NOW));
  }

  @Test
  void stopsSummingChunkReferencesOnceAFileIsOversized() {
    FileEntry.Builder huge = FileEntry.newBuilder().setPath("zeros").setMode(0644).setSize(10).setSha256(TrustFixtures.hash("z"));
    for (int i = 0; i < 300_000; i++) {
      huge.addChunkIndex(2);
    }
    assertRejected(Reason.SIZE_MISMATCH, m -> m.setFiles(1, huge));
  }
}
