package io.patchmesh.trust;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.proto.PublicKey;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.VerificationException.Reason;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns signed trust root bytes into a {@link TrustedRoot}.
 *
 * <p>The first root a node trusts comes out of band (the operator hands it
 * {@code root.pb}); {@link #verifyInitial} checks that it is consistent, signed
 * by a threshold of its own root keys and not expired. Later roots arrive as
 * rotations, accepted TUF-style by {@link #verifyRotation}: version N+1, signed
 * by a threshold of root N's root keys and of its own. As in TUF, only the
 * newest root must be unexpired: a node whose root expired while it was
 * offline can still rotate forward.
 */
public final class TrustRootVerifier {
  /** A trust root is a few keys and rules; 1 MiB is far more than any real one. */
  public static final int MAX_ROOT_BYTES = 1 << 20;
  /** Signatures on one root envelope (each costs an Ed25519 verify). */
  public static final int MAX_SIGNATURES = 64;

  private TrustRootVerifier() {}

  /** Parses and verifies a serialized {@link SignedTrustRoot} (the content of {@code root.pb}). */
  public static TrustedRoot verifyInitial(byte[] signedRootBytes, Instant now) {
    return verifyInitial(parseEnvelope(signedRootBytes), now);
  }

  /** Verifies a root trusted out of band: consistent, self-signed by its root threshold, not expired. */
  public static TrustedRoot verifyInitial(SignedTrustRoot signed, Instant now) {
    TrustedRoot trusted = verifyStored(signed);
    requireUnexpired(trusted, now);
    return trusted;
  }

  /**
   * Every check of {@link #verifyInitial} except expiry: for a root re-read from
   * the node's own store after a restart, which must load even if it expired
   * meanwhile so that a rotation can still be accepted (manifests are still
   * refused under it: {@link ManifestVerifier} checks expiry).
   */
  public static TrustedRoot verifyStored(SignedTrustRoot signed) {
    TrustRoot root = parseAndCheck(signed);
    requireThreshold(signed, root, root, "its own", Reason.THRESHOLD_NOT_MET);
    return new TrustedRoot(signed, root);
  }

  /** Parses and verifies a rotation received as bytes. */
  public static TrustedRoot verifyRotation(TrustedRoot current, byte[] nextSignedRootBytes, Instant now) {
    return verifyRotation(current, parseEnvelope(nextSignedRootBytes), now);
  }

  /**
   * Accepts {@code next} as the successor of {@code current}: version exactly
   * current+1, consistent, signed by a threshold of current's root keys (so a
   * stolen new key alone cannot take over) and by a threshold of next's own
   * root keys (so the new keys really are held), not expired.
   */
  public static TrustedRoot verifyRotation(TrustedRoot current, SignedTrustRoot next, Instant now) {
    TrustedRoot trusted = rotate(current, next);
    requireUnexpired(trusted, now);
    return trusted;
  }

  private static TrustedRoot rotate(TrustedRoot current, SignedTrustRoot next) {
    TrustRoot root = parseAndCheck(next);
    if (root.getVersion() != current.version() + 1) {
      throw new VerificationException(
          Reason.ROOT_ROTATION,
          "trust root version " + Long.toUnsignedString(root.getVersion()) + " cannot follow version "
              + current.version() + " (must be " + (current.version() + 1) + ")");
    }
    requireThreshold(next, root, current.root(), "the current (version " + current.version() + ")", Reason.ROOT_ROTATION);
    requireThreshold(next, root, root, "its own", Reason.THRESHOLD_NOT_MET);
    return new TrustedRoot(next, root);
  }

  /**
   * Verifies {@code initial} (expiry not checked) and then each rotation in
   * turn; only the final root must be unexpired.
   */
  public static TrustedRoot verifyChain(SignedTrustRoot initial, List<SignedTrustRoot> rotations, Instant now) {
    TrustedRoot current = verifyStored(initial);
    for (SignedTrustRoot next : rotations) {
      current = rotate(current, next);
    }
    requireUnexpired(current, now);
    return current;
  }

  static SignedTrustRoot parseEnvelope(byte[] bytes) {
    if (bytes.length > MAX_ROOT_BYTES + 64 * 1024) {
      throw tooLarge(bytes.length);
    }
    try {
      return SignedTrustRoot.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(Reason.MALFORMED, "not a signed trust root (" + e.getMessage() + ")", e);
    }
  }

  private static TrustRoot parseAndCheck(SignedTrustRoot signed) {
    if (signed.getRoot().size() > MAX_ROOT_BYTES) {
      throw tooLarge(signed.getRoot().size());
    }
    if (signed.getSignaturesCount() > MAX_SIGNATURES) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          "trust root carries " + signed.getSignaturesCount() + " signatures (at most " + MAX_SIGNATURES + ")");
    }
    if (signed.getRoot().isEmpty()) {
      throw new VerificationException(Reason.MALFORMED, "signed trust root holds no trust root");
    }
    TrustRoot root;
    try {
      root = TrustRoot.parseFrom(signed.getRoot());
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(Reason.MALFORMED, "trust root cannot be parsed (" + e.getMessage() + ")", e);
    }
    TrustRootRules.check(root);
    return root;
  }

  /**
   * Requires a threshold of {@code signers}' root keys to have signed exactly
   * {@code signed}'s root bytes.
   */
  private static void requireThreshold(
      SignedTrustRoot signed, TrustRoot subject, TrustRoot signers, String whose, Reason reason) {
    Map<String, VerifyKey> rootKeys = rootKeys(signers);
    String what = "trust root version " + Long.toUnsignedString(subject.getVersion());
    SignatureTally tally;
    try {
      tally = SignatureTally.of(signed.getRoot().toByteArray(), signed.getSignaturesList(), rootKeys::get);
    } catch (VerificationException e) {
      throw new VerificationException(e.reason(), what + ": " + e.detail());
    }
    int have = tally.valid().size();
    int need = signers.getRootThreshold();
    if (have >= need) {
      return;
    }
    if (!tally.bad().isEmpty()) {
      throw new VerificationException(
          Reason.BAD_SIGNATURE,
          what + " has an invalid signature by root key " + SignatureTally.shortIds(tally.bad())
              + " (" + have + " of " + need + " required valid)");
    }
    throw new VerificationException(
        reason,
        what + " is signed by " + have + " of " + whose + " root keys; " + need + " required");
  }

  private static Map<String, VerifyKey> rootKeys(TrustRoot root) {
    Map<String, PublicKey> byId = new HashMap<>();
    for (PublicKey k : root.getKeysList()) {
      byId.put(k.getKeyId(), k);
    }
    Map<String, VerifyKey> out = new HashMap<>();
    for (String id : root.getRootKeyIdsList()) {
      out.put(id, VerifyKey.of(byId.get(id)));
    }
    return out;
  }

  private static void requireUnexpired(TrustedRoot root, Instant now) {
    if (root.isExpired(now)) {
      throw new VerificationException(
          Reason.ROOT_EXPIRED, "trust root version " + root.version() + " expired at " + root.expires());
    }
  }

  private static VerificationException tooLarge(long size) {
    return new VerificationException(
        Reason.LIMITS_EXCEEDED, "trust root is " + size + " bytes (at most " + MAX_ROOT_BYTES + ")");
  }
}
