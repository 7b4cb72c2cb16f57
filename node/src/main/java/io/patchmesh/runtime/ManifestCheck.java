package io.patchmesh.runtime;

import io.patchmesh.proto.Delta;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.transfer.delta.DeltaException;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.SignedManifestBytes;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import java.time.Clock;
import java.util.Optional;

/**
 * Checks a downloaded manifest envelope and stores it if good; says whose fault a refusal is.
 * Runs on a worker (parsing, hashing, Ed25519, the store); {@link ManifestSync} acts on the verdict
 * on the loop.
 */
final class ManifestCheck {
  /** What a downloaded copy turned out to be. */
  enum Verdict {
    /** Verified and stored. */
    VERIFIED,
    /** Not a signed manifest, or not hashing to the announced id: no honest peer serves that (charged). */
    LIE,
    /** Refused for its signatures: this copy only, the id may still come right from another source. */
    BADLY_SIGNED,
    /** Older than what we hold for its channel: stale, not malicious; the id is written off. */
    ROLLBACK,
    /** Validly signed but refused (expired, malformed, over our limits): the id is written off. */
    REFUSED,
    /** Good, but the store would not take it: nobody's fault; we wait to hear of it again. */
    NOT_STORED
  }

  /** The verdict, the manifest when verified, and the reason in words when not. */
  record Outcome(Verdict verdict, VerifiedManifest manifest, String why) {
    static Outcome of(Verdict v, String why) {
      return new Outcome(v, null, why);
    }
  }

  private final ManifestVerifier verifier;
  private final TrustedRoot root;
  private final ManifestStore manifests;
  private final Clock clock;

  ManifestCheck(ManifestVerifier verifier, TrustedRoot root, ManifestStore manifests, Clock clock) {
    this.verifier = verifier;
    this.root = root;
    this.manifests = manifests;
    this.clock = clock;
  }

  /** Checks {@code bytes}, announced as manifest {@code id}; stores it if it verifies. */
  Outcome check(ManifestId id, byte[] bytes) {
    SignedManifestBytes envelope;
    try {
      envelope = SignedManifestBytes.parse(bytes);
    } catch (VerificationException e) {
      return Outcome.of(Verdict.LIE, "served bytes that are not a signed manifest");
    }
    if (!envelope.id().equals(id)) {
      return Outcome.of(Verdict.LIE, "served a manifest that does not hash to the announced id");
    }
    try {
      VerifiedManifest vm = verifier.verify(envelope, root, manifests, clock.instant());
      manifests.accept(vm);
      return new Outcome(Verdict.VERIFIED, vm, null);
    } catch (VerificationException e) {
      if (e.aboutSignatures()) {
        return Outcome.of(Verdict.BADLY_SIGNED, e.getMessage());
      }
      return Outcome.of(e.reason() == VerificationException.Reason.ROLLBACK ? Verdict.ROLLBACK : Verdict.REFUSED,
          e.getMessage());
    } catch (RuntimeException e) {
      return Outcome.of(Verdict.NOT_STORED, e.toString());
    }
  }

  /**
   * Rebuilds the envelope of {@code total} bytes announced as {@code id} from a peer's {@code delta}
   * against our own stored {@code base} (every op checked), then checks it exactly as {@link #check}
   * does a downloaded copy. A delta that does not decode is a lie. Null if the base is no longer
   * stored (nobody's fault).
   */
  Outcome checkDelta(ManifestId id, ManifestId base, Delta delta, long total) {
    Optional<SignedManifest> b = manifests.get(base);
    if (b.isEmpty()) {
      return null;
    }
    byte[] bytes;
    try {
      bytes = ManifestDelta.decode(delta, b.get().getManifest().toByteArray(), total);
    } catch (DeltaException e) {
      return Outcome.of(Verdict.LIE, "sent a manifest delta that does not decode: " + e.getMessage());
    }
    return check(id, bytes);
  }
}
