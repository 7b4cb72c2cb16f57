package io.patchmesh.trust;

import static io.patchmesh.trust.TrustFixtures.A;
import static io.patchmesh.trust.TrustFixtures.B;
import static io.patchmesh.trust.TrustFixtures.C;
import static io.patchmesh.trust.TrustFixtures.D;
import static io.patchmesh.trust.TrustFixtures.IN_A_YEAR;
import static io.patchmesh.trust.TrustFixtures.NOW;
import static io.patchmesh.trust.TrustRootTest.assertReason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.store.AppliedFloorResets;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.VerificationException.Reason;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TUF fast-forward attack and its recovery: D alone may publish {@code tools/**}; a thief
 * of D signs {@code tools/x} version 2^63-1, which raises every node's floor so far that no
 * genuine version is accepted again. Root version 2, signed by the root threshold (A, B),
 * removes D, names a new publisher E and resets the floor of {@code tools/x} to 4.
 */
class FastForwardTest {
  private static final String CHANNEL = "tools/x";
  private static final SigningKey E = TrustFixtures.key(5);

  @TempDir Path dir;
  private final ManifestVerifier verifier = new ManifestVerifier();
  private NodeStore store;

  @BeforeEach
  void open() {
    store = NodeStore.open(dir, StoreConfig.DEFAULTS, Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static SignedManifest signed(long version, SigningKey key) {
    return ManifestSigner.sign(TrustFixtures.manifest(CHANNEL, version).build(), List.of(key));
  }

  /** Root v2: D removed, E publishes tools/**, tools/x's floor reset to at most {@code atMost}. */
  private static TrustRoot recoveryRoot(long atMost) {
    return TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
        .removeKey(D.keyId())
        .publisher("tools/**", 1, E.verifyKey())
        .resetFloor(CHANNEL, atMost)
        .expires(IN_A_YEAR.plus(Duration.ofDays(1)))
        .build();
  }

  private static TrustedRoot recoveryRootV2() {
    return TrustRootVerifier.verifyRotation(
        TrustFixtures.trustedRootV1(), TrustRootSigner.sign(recoveryRoot(4), List.of(A, B)), NOW);
  }

  private VerifiedManifest accept(SignedManifest m, TrustedRoot root) {
    VerifiedManifest vm = verifier.verify(m, root, store.manifests(), NOW);
    assertTrue(store.manifests().accept(vm));
    return vm;
  }

  private void fastForward() {
    TrustedRoot v1 = TrustFixtures.trustedRootV1();
    accept(signed(3, D), v1);
    accept(signed(Long.MAX_VALUE, D), v1);
  }

  @Test
  void fastForwardWithoutResetBlocksEveryLaterGenuineVersion() {
    fastForward();
    assertEquals(Long.MAX_VALUE, store.manifests().highestAccepted(CHANNEL));
    // the largest version a manifest may carry: nothing can ever be newer
    assertReason(Reason.ROLLBACK,
        () -> verifier.verify(signed(5, D), TrustFixtures.trustedRootV1(), store.manifests(), NOW));
    // rotating the root alone (no reset) removes D but leaves the floor where the thief put it
    TrustRoot plain = TrustRootBuilder.successorOf(TrustFixtures.trustedRootV1())
        .removeKey(D.keyId()).publisher("tools/**", 1, E.verifyKey()).expires(IN_A_YEAR).build();
    TrustedRoot v2 = TrustRootVerifier.verifyRotation(
        TrustFixtures.trustedRootV1(), TrustRootSigner.sign(plain, List.of(A, B)), NOW);
    store.manifests().applyFloorResets(v2);
    assertReason(Reason.ROLLBACK, () -> verifier.verify(signed(5, E), v2, store.manifests(), NOW));
  }

  @Test
  void rootWithFloorResetLetsTheGenuineNextVersionBeAcceptedAgain() {
    fastForward();
    TrustedRoot v2 = recoveryRootV2();

    AppliedFloorResets r = store.manifests().applyFloorResets(v2);

    assertTrue(r.applied());
    assertEquals(Map.of(CHANNEL, 4L), r.lowered());
    assertEquals(List.of(Long.MAX_VALUE), r.dropped().stream().map(m -> m.version()).toList());
    assertEquals(4, store.manifests().highestAccepted(CHANNEL));
    // the fast-forwarded manifest is gone; v3 (below the reset) stays
    assertEquals(List.of(3L), store.manifests().list().stream().map(m -> m.version()).toList());
    assertEquals(3, store.manifests().newest(CHANNEL).orElseThrow().version());
    // the thief's manifest, still gossiped by other peers, no longer verifies: D is gone
    assertReason(Reason.UNKNOWN_KEY,
        () -> verifier.verify(signed(Long.MAX_VALUE, D), v2, store.manifests(), NOW));
    accept(signed(5, E), v2);
    assertEquals(5, store.manifests().highestAccepted(CHANNEL));
  }

  @Test
  void replayingTheResetRootAfterTheFloorRoseDoesNotLowerItAgain() {
    fastForward();
    TrustedRoot v2 = recoveryRootV2();
    store.manifests().applyFloorResets(v2);
    accept(signed(5, E), v2);
    accept(signed(6, E), v2);

    AppliedFloorResets again = store.manifests().applyFloorResets(v2);
    AppliedFloorResets older = store.manifests().applyFloorResets(TrustFixtures.trustedRootV1());

    assertFalse(again.applied());
    assertFalse(older.applied());
    assertEquals(6, store.manifests().highestAccepted(CHANNEL));
    assertEquals(3, store.manifests().list().size());
    assertReason(Reason.ROLLBACK, () -> verifier.verify(signed(5, E), v2, store.manifests(), NOW));
  }

  @Test
  void floorResetStateSurvivesRestart() {
    fastForward();
    TrustedRoot v2 = recoveryRootV2();
    store.manifests().applyFloorResets(v2);
    accept(signed(5, E), v2);
    store.close();
    store = NodeStore.open(dir, StoreConfig.DEFAULTS, Clock.fixed(NOW, ZoneOffset.UTC));

    assertFalse(store.manifests().applyFloorResets(v2).applied());
    assertEquals(5, store.manifests().highestAccepted(CHANNEL));
  }

  @Test
  void floorResetNeverRaisesAFloor() {
    accept(signed(2, D), TrustFixtures.trustedRootV1());
    TrustedRoot v2 = TrustRootVerifier.verifyRotation(
        TrustFixtures.trustedRootV1(), TrustRootSigner.sign(recoveryRoot(1000), List.of(A, B)), NOW);

    AppliedFloorResets r = store.manifests().applyFloorResets(v2);

    assertTrue(r.applied());
    assertFalse(r.changedAnything());
    assertEquals(2, store.manifests().highestAccepted(CHANNEL));
    assertEquals(0, store.manifests().highestAccepted("tools/never-seen"));
  }

  @Test
  void floorResetToZeroForgetsTheFloor() {
    fastForward();
    TrustedRoot v2 = TrustRootVerifier.verifyRotation(
        TrustFixtures.trustedRootV1(), TrustRootSigner.sign(recoveryRoot(0), List.of(A, B)), NOW);

    store.manifests().applyFloorResets(v2);

    assertEquals(0, store.manifests().highestAccepted(CHANNEL));
    assertTrue(store.manifests().list().isEmpty());
    accept(signed(1, E), v2);
  }

  @Test
  void resetInRootNotSignedByTheRootThresholdIsRejectedWithTheRoot() {
    TrustedRoot v1 = TrustFixtures.trustedRootV1();
    // one current root key: below the threshold of 2
    assertReason(Reason.ROOT_ROTATION,
        () -> TrustRootVerifier.verifyRotation(v1, TrustRootSigner.sign(recoveryRoot(4), List.of(A)), NOW));
    // the publisher key being abused cannot authorise it either
    assertReason(Reason.ROOT_ROTATION,
        () -> TrustRootVerifier.verifyRotation(v1, TrustRootSigner.sign(recoveryRoot(4), List.of(D, E)), NOW));
    // a reset spliced into a root after the root keys signed it breaks their signatures
    SignedTrustRoot genuine = TrustRootSigner.sign(
        TrustRootBuilder.successorOf(v1).expires(IN_A_YEAR).build(), List.of(A, B));
    SignedTrustRoot spliced = genuine.toBuilder()
        .setRoot(ByteString.copyFrom(recoveryRoot(4).toByteArray()))
        .build();
    assertReason(Reason.BAD_SIGNATURE, () -> TrustRootVerifier.verifyRotation(v1, spliced, NOW));
    assertReason(Reason.BAD_SIGNATURE, () -> TrustRootVerifier.verifyInitial(spliced, NOW));
  }
}
