package io.patchmesh.trust;

import static io.patchmesh.trust.TrustFixtures.A;
import static io.patchmesh.trust.TrustFixtures.B;
import static io.patchmesh.trust.TrustFixtures.C;
import static io.patchmesh.trust.TrustFixtures.D;
import static io.patchmesh.trust.TrustFixtures.IN_A_YEAR;
import static io.patchmesh.trust.TrustFixtures.NOW;
import static io.patchmesh.trust.TrustFixtures.OUTSIDER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.VerificationException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrustRootTest {

  @Test
  void signedRootRoundTripsThroughBytes() {
    byte[] bytes = TrustFixtures.signedRootV1().toByteArray();
    TrustedRoot root = TrustRootVerifier.verifyInitial(bytes, NOW);

    assertEquals(1, root.version());
    assertEquals(IN_A_YEAR.getEpochSecond(), root.expires().getEpochSecond());
    assertEquals(List.of(A.keyId(), B.keyId(), C.keyId()), root.rootKeyIds());
    assertEquals(2, root.rootThreshold());
    assertEquals(4, root.keys().size());
    assertEquals("alice", root.keyName(A.keyId()));
    assertEquals(A.verifyKey(), root.key(A.keyId()).orElseThrow());
    assertEquals(2, root.publishers().size());
    assertEquals(1, root.policiesFor("openssl/x").size());
    assertEquals(0, root.policiesFor("nginx/x").size());
    assertEquals(Sha256.hex(TrustFixtures.signedRootV1().getRoot().toByteArray()), root.rootId());
  }

  @Test
  void summaryNamesVersionKeysAndRules() {
    String s = TrustFixtures.trustedRootV1().summary(NOW);
    assertTrue(s.startsWith("trust root version 1 (id "), s);
    assertTrue(s.contains("2 of 3 sign the next root"), s);
    assertTrue(s.contains(A.keyId() + "  \"alice\""), s);
    assertTrue(s.contains("openssl/*  (2 of 3)"), s);
    assertTrue(s.contains("tools/**  (1 of 1)"), s);
    assertFalse(s.contains("EXPIRED"));
    assertTrue(TrustFixtures.trustedRootV1().summary(IN_A_YEAR).contains("EXPIRED"));
  }

  @Test
  void acceptsRootSignedByThresholdOfItsRootKeys() {
    assertNotNull(TrustRootVerifier.verifyInitial(TrustRootSigner.sign(TrustFixtures.rootV1(), List.of(B, C)), NOW));
  }

  @Test
  void rejectsRootSignedByFewerThanThreshold() {
    SignedTrustRoot one = TrustRootSigner.sign(TrustFixtures.rootV1(), List.of(A));
    assertReason(Reason.THRESHOLD_NOT_MET, () -> TrustRootVerifier.verifyInitial(one, NOW));
  }

  @Test
  void rejectsRootSignedTwiceByTheSameKeyBeforeCheckingAnySignature() {
    SignedTrustRoot one = TrustRootSigner.sign(TrustFixtures.rootV1(), List.of(A));
    SignedTrustRoot twice = one.toBuilder().addSignatures(one.getSignatures(0)).build();
    assertReason(Reason.MALFORMED, () -> TrustRootVerifier.verifyInitial(twice, NOW));
  }

  @Test
  void rootSignaturesByPublisherOnlyKeysDoNotCount() {
    SignedTrustRoot signed = TrustRootSigner.sign(TrustFixtures.rootV1(), List.of(A, D, OUTSIDER));
    assertReason(Reason.THRESHOLD_NOT_MET, () -> TrustRootVerifier.verifyInitial(signed, NOW));
  }

  @Test
  void coSigningCompletesTheThreshold() {
    SignedTrustRoot one = TrustRootSigner.sign(TrustFixtures.rootV1(), List.of(A));
    SignedTrustRoot two = TrustRootSigner.addSignature(TrustRootSigner.addSignature(one, C), C);
    assertEquals(2, two.getSignaturesCount());
    assertNotNull(TrustRootVerifier.verifyInitial(two, NOW));
  }

  @Test
  void rejectsRootWithAFlippedByteInAKeyName() {
    byte[] signedBytes = TrustFixtures.signedRootV1().toByteArray();
    int at = TrustFixtures.indexOf(signedBytes, "carol".getBytes(StandardCharsets.UTF_8));
    assertReason(Reason.BAD_SIGNATURE, () -> TrustRootVerifier.verifyInitial(TrustFixtures.flip(signedBytes, at), NOW));
  }

  @Test
  void rejectsEveryFlippedByteOfTheRootBytes() {
    SignedTrustRoot signed = TrustFixtures.signedRootV1();
    byte[] root = signed.getRoot().toByteArray();
    for (int i = 0; i < root.length; i++) {
      SignedTrustRoot tampered = signed.toBuilder().setRoot(ByteString.copyFrom(TrustFixtures.flip(root, i))).build();
      assertThrows(
          VerificationException.class,
          () -> TrustRootVerifier.verifyInitial(tampered, NOW),
          "flipped byte " + i + " was accepted");
    }
  }

  @Test
  void rejectsRootWithAFlippedSignatureByte() {
    SignedTrustRoot signed = TrustFixtures.signedRootV1();
    Signature s = signed.getSignatures(0);
    byte[] sig = TrustFixtures.flip(s.getSignature().toByteArray(), 10);
    SignedTrustRoot tampered =
        signed.toBuilder().setSignatures(0, s.toBuilder().setSignature(ByteString.copyFrom(sig))).build();
    assertReason(Reason.BAD_SIGNATURE, () -> TrustRootVerifier.verifyInitial(tampered, NOW));
  }

  @Test
  void rejectsExpiredRoot() {
    assertReason(
        Reason.ROOT_EXPIRED, () -> TrustRootVerifier.verifyInitial(TrustFixtures.signedRootV1(), IN_A_YEAR));
  }

  @Test
  void rejectsRootWhoseExpiryInstantCannotHold() {
    // Found by the fuzzer: a self-signed root expiring at 2^62 s escaped as DateTimeException.
    TrustRoot far = TrustFixtures.rootV1().toBuilder().setExpiresUnix(1L << 62).build();
    assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(far, List.of(A, B)), NOW));
  }

  @Test
  void storedRootLoadsEvenAfterExpiry() {
    assertEquals(1, TrustRootVerifier.verifyStored(TrustFixtures.signedRootV1()).version());
  }

  @Test
  void rejectsGarbageAsMalformed() {
    assertReason(Reason.MALFORMED, () -> TrustRootVerifier.verifyInitial(new byte[] {(byte) 0xff, 1, 2}, NOW));
  }

  @Test
  void rejectsKeyWhoseIdIsNotTheHashOfItsKey() {
    TrustRoot root = TrustFixtures.rootV1();
    TrustRoot bad = root.toBuilder().setKeys(0, root.getKeys(0).toBuilder().setRawKey(ByteString.copyFrom(D.verifyKey().raw()))).build();
    assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(bad, List.of(A, B)), NOW));
  }

  @Test
  void rejectsRuleNamingAnUnlistedKey() {
    TrustRoot bad =
        TrustFixtures.rootV1().toBuilder()
            .setPublishers(0, TrustFixtures.rootV1().getPublishers(0).toBuilder().addKeyIds(OUTSIDER.keyId()))
            .build();
    assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(bad, List.of(A, B)), NOW));
  }

  @Test
  void rejectsImpossibleThresholds() {
    TrustRoot zero = TrustFixtures.rootV1().toBuilder().setRootThreshold(0).build();
    TrustRoot tooMany = TrustFixtures.rootV1().toBuilder().setRootThreshold(4).build();
    assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(zero, List.of(A, B)), NOW));
    assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(tooMany, List.of(A, B)), NOW));
  }

  @Test
  void rejectsUnknownFormat() {
    TrustRoot v2format = TrustFixtures.rootV1().toBuilder().setFormat(2).build();
    assertReason(Reason.UNSUPPORTED_FORMAT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(v2format, List.of(A, B)), NOW));
  }

  @Test
  void builderReportsAnImpossibleThresholdAsUserInput() {
    UserInputException e =
        assertThrows(
            UserInputException.class,
            () -> new TrustRootBuilder().rootKey(A.verifyKey(), "a").rootThreshold(2).expires(IN_A_YEAR).build());
    assertEquals("trust root: root keys: threshold 2 is not between 1 and 1 keys", e.getMessage());
  }

  // ---- rotation ----

  /** Root v2: A is rotated out, D becomes a root key; root threshold 2 of B, C, D. */
  private static TrustRoot rootV2WithoutA() {
    return TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
        .removeKey(A.keyId())
        .rootKey(D.verifyKey(), "dave")
        .expires(IN_A_YEAR.plus(Duration.ofDays(365)))
        .build();
  }

  @Test
  void acceptsRotationSignedByBothThresholds() {
    // B and C are root keys of v1 and v2; that alone meets both thresholds.
    SignedTrustRoot next = TrustRootSigner.sign(rootV2WithoutA(), List.of(B, C));
    TrustedRoot v2 = TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), next, NOW);
    assertEquals(2, v2.version());
    assertFalse(v2.keys().containsKey(A.keyId()));
    assertEquals(List.of(B.keyId(), C.keyId(), D.keyId()), v2.rootKeyIds());
  }

  @Test
  void acceptsRotationWhereOldAndNewKeysSignSeparately() {
    TrustRoot v2 =
        TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
            .clearRootKeys()
            .rootKey(D.verifyKey(), "dave")
            .rootKey(OUTSIDER.verifyKey(), "olga")
            .rootThreshold(2)
            .build();
    SignedTrustRoot next = TrustRootSigner.sign(v2, List.of(A, B, D, OUTSIDER));
    assertEquals(2, TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), next, NOW).version());
  }

  @Test
  void rejectsRotationWithoutThresholdOfCurrentRootKeys() {
    TrustRoot v2 =
        TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
            .clearRootKeys()
            .rootKey(D.verifyKey(), "dave")
            .rootKey(OUTSIDER.verifyKey(), "olga")
            .rootThreshold(2)
            .build();
    // Only one of v1's root keys signed: the new keys alone cannot take over.
    SignedTrustRoot next = TrustRootSigner.sign(v2, List.of(A, D, OUTSIDER));
    assertReason(Reason.ROOT_ROTATION, () -> TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), next, NOW));
  }

  @Test
  void rejectsRotationWithoutThresholdOfItsOwnRootKeys() {
    TrustRoot v2 =
        TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
            .clearRootKeys()
            .rootKey(D.verifyKey(), "dave")
            .rootKey(OUTSIDER.verifyKey(), "olga")
            .rootThreshold(2)
            .build();
    SignedTrustRoot next = TrustRootSigner.sign(v2, List.of(A, B, D));
    assertReason(Reason.THRESHOLD_NOT_MET, () -> TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), next, NOW));
  }

  @Test
  void rejectsRotationThatSkipsOrRepeatsAVersion() {
    TrustRoot v3 = rootV2WithoutA().toBuilder().setVersion(3).build();
    TrustRoot v1again = rootV2WithoutA().toBuilder().setVersion(1).build();
    assertReason(
        Reason.ROOT_ROTATION,
        () -> TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), TrustRootSigner.sign(v3, List.of(B, C)), NOW));
    assertReason(
        Reason.ROOT_ROTATION,
        () -> TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), TrustRootSigner.sign(v1again, List.of(B, C)), NOW));
  }

  @Test
  void rejectsExpiredRotation() {
    TrustRoot v2 = TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1()).expires(NOW).build();
    assertReason(
        Reason.ROOT_EXPIRED,
        () -> TrustRootVerifier.verifyRotation(TrustFixtures.trustedRootV1(), TrustRootSigner.sign(v2, List.of(B, C)), NOW));
  }

  @Test
  void chainRotatesPastAnExpiredIntermediateRoot() {
    TrustedRoot v1 = TrustFixtures.trustedRootV1();
    SignedTrustRoot v2 = TrustRootSigner.sign(rootV2WithoutA(), List.of(B, C));
    TrustRoot v3root =
        TrustRootBuilder.from(rootV2WithoutA()).version(3).expires(IN_A_YEAR.plus(Duration.ofDays(900))).build();
    SignedTrustRoot v3 = TrustRootSigner.sign(v3root, List.of(C, D));
    // Two years on: v1 and v2 have expired, v3 has not.
    TrustedRoot latest =
        TrustRootVerifier.verifyChain(v1.signed(), List.of(v2, v3), IN_A_YEAR.plus(Duration.ofDays(400)));
    assertEquals(3, latest.version());
  }

  // ---- floor resets ----

  @Test
  void floorResetsAreNotCarriedOverToTheNextRoot() {
    TrustRoot v2 = TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
        .resetFloor("tools/x", 4).expires(IN_A_YEAR).build();
    TrustedRoot trusted = TrustRootVerifier.verifyRotation(
        TrustFixtures.trustedRootV1(), TrustRootSigner.sign(v2, List.of(A, B)), NOW);
    assertEquals(1, trusted.floorResets().size());
    assertTrue(trusted.summary(NOW).contains("\"tools/x\" to at most version 4"), trusted.summary(NOW));

    assertTrue(TrustRootBuilder.successorOf(trusted).build().getFloorResetsList().isEmpty());
  }

  @Test
  void rejectsInconsistentFloorResets() {
    TrustRoot base = TrustFixtures.rootV1();
    for (TrustRoot bad : List.of(
        base.toBuilder().addFloorResets(io.patchmesh.proto.FloorReset.newBuilder().setChannel("").setAtMostVersion(1)).build(),
        base.toBuilder().addFloorResets(io.patchmesh.proto.FloorReset.newBuilder().setChannel("tools/*").setAtMostVersion(1)).build(),
        base.toBuilder().addFloorResets(io.patchmesh.proto.FloorReset.newBuilder().setChannel("x").setAtMostVersion(-1)).build(),
        base.toBuilder()
            .addFloorResets(io.patchmesh.proto.FloorReset.newBuilder().setChannel("x").setAtMostVersion(1))
            .addFloorResets(io.patchmesh.proto.FloorReset.newBuilder().setChannel("x").setAtMostVersion(2)).build())) {
      assertReason(Reason.INCONSISTENT, () -> TrustRootVerifier.verifyInitial(TrustRootSigner.sign(bad, List.of(A, B)), NOW));
    }
    UserInputException e = assertThrows(UserInputException.class,
        () -> TrustRootBuilder.from(base).resetFloor("tools/**", 3).build());
    assertTrue(e.getMessage().contains("names a pattern"), e.getMessage());
  }

  static void assertReason(Reason expected, org.junit.jupiter.api.function.Executable action) {
    VerificationException e = assertThrows(VerificationException.class, action);
    assertEquals(expected, e.reason(), e.getMessage());
    assertEquals(3, e.exitCode());
    assertTrue(e.getMessage().startsWith("rejected (" + expected.label() + "): "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }
}
