package io.patchmesh.trust;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.VerificationException.Reason;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The gate every manifest passes before anything else looks at it. Produces
 * the only {@link VerifiedManifest}s there are.
 *
 * <p>Order of checks, cheapest and most fundamental first: the trust root is
 * unexpired; the envelope is within the hard size caps; no key id signs twice (checked before
 * any signature, so the work is at most one Ed25519 check per distinct key the root knows, and a
 * root holds few keys); signatures by keys the root knows verify over exactly the manifest bytes (if none does, the bytes
 * are not even parsed); the manifest parses and has a known format; a matching
 * publisher rule's threshold of distinct keys signed; the manifest is not
 * expired (freeze); its version is above the channel's floor (rollback); its
 * structure is sound and within the caps ({@link ManifestStructure}).
 *
 * <p>Immutable and thread-safe; one instance can serve the whole node.
 */
public final class ManifestVerifier {
  /** The manifest format this code understands. */
  public static final int FORMAT = 1;

  private final ManifestLimits limits;
  /** Ed25519 checks run, over every manifest (at most one per distinct known key each). */
  private final java.util.concurrent.atomic.LongAdder signatureChecks = new java.util.concurrent.atomic.LongAdder();

  public ManifestVerifier(ManifestLimits limits) {
    this.limits = Objects.requireNonNull(limits);
  }

  /** A verifier with {@link ManifestLimits#DEFAULTS}. */
  public ManifestVerifier() {
    this(ManifestLimits.DEFAULTS);
  }

  public ManifestLimits limits() {
    return limits;
  }

  /**
   * Ed25519 signature checks this verifier has run. Each manifest costs at most one per distinct
   * key the trust root knows (an envelope naming a key twice is rejected before any check).
   */
  public long signatureChecks() {
    return signatureChecks.sum();
  }

  /** Parses a serialized {@link SignedManifest} (as received or read from a bundle) and verifies it. */
  public VerifiedManifest verify(byte[] signedManifestBytes, TrustedRoot root, VersionFloor floor, Instant now) {
    return verify(SignedManifestBytes.parse(requireEnvelopeSize(signedManifestBytes)), root, floor, now);
  }

  /**
   * Every check, including rollback, of an envelope parsed without copying its manifest bytes
   * (downloads: the signatures are checked over the downloaded array itself).
   */
  public VerifiedManifest verify(SignedManifestBytes envelope, TrustedRoot root, VersionFloor floor, Instant now) {
    requireEnvelopeSize(envelope.array());
    return check(envelope.signed(), envelope.array(), envelope.offset(), envelope.length(), root, Objects.requireNonNull(floor), now);
  }

  /** Every check, including rollback against {@code floor}. */
  public VerifiedManifest verify(SignedManifest signed, TrustedRoot root, VersionFloor floor, Instant now) {
    return check(signed, root, Objects.requireNonNull(floor), now);
  }

  /**
   * Every check except rollback: for a manifest re-read from the node's own
   * store after a restart, whose version is (by definition) at the floor.
   */
  public VerifiedManifest verifyStored(byte[] signedManifestBytes, TrustedRoot root, Instant now) {
    return verifyStored(parseEnvelope(signedManifestBytes), root, now);
  }

  public VerifiedManifest verifyStored(SignedManifest signed, TrustedRoot root, Instant now) {
    return check(signed, root, null, now);
  }

  private VerifiedManifest check(SignedManifest signed, TrustedRoot root, VersionFloor floor, Instant now) {
    // an oversized manifest is refused by the size check before its bytes are read: do not copy it
    byte[] bytes = signed.getManifest().size() > limits.maxSignedManifestBytes() ? new byte[0] : signed.getManifest().toByteArray();
    return check(signed, bytes, 0, bytes.length, root, floor, now);
  }

  /** {@code buf[off, off + len)} holds exactly {@code signed}'s manifest bytes. */
  private VerifiedManifest check(SignedManifest signed, byte[] buf, int off, int len, TrustedRoot root, VersionFloor floor, Instant now) {
    if (root.isExpired(now)) {
      throw new VerificationException(
          Reason.ROOT_EXPIRED,
          "trust root version " + root.version() + " expired at " + root.expires() + "; nothing can be accepted under it");
    }
    int size = signed.getManifest().size();
    if (size > limits.maxSignedManifestBytes()) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          "manifest is " + size + " bytes, more than this node's limit of " + limits.maxSignedManifestBytes());
    }
    if (signed.getSignaturesCount() > limits.maxSignatures()) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          "manifest carries " + signed.getSignaturesCount() + " signatures, more than this node's limit of "
              + limits.maxSignatures()).markAboutSignatures();
    }
    Sha256Digest digest = Sha256Digest.create();
    digest.update(buf, off, len);
    ManifestId id = ManifestId.of(digest.digest());

    SignatureTally tally;
    try {
      tally = SignatureTally.of(buf, off, len, signed.getSignaturesList(), root.keys()::get);
    } catch (VerificationException e) {
      throw new VerificationException(e.reason(), "manifest " + id.shortHex() + ": " + e.detail()).markAboutSignatures();
    }
    signatureChecks.add(tally.checks());
    if (tally.valid().isEmpty()) {
      throw noValidSignature(id, tally, root).markAboutSignatures();
    }

    Manifest manifest = parseManifest(signed, id);
    if (manifest.getFormat() != FORMAT) {
      throw new VerificationException(
          Reason.UNSUPPORTED_FORMAT,
          "manifest " + id.shortHex() + " has format " + Integer.toUnsignedString(manifest.getFormat())
              + "; this node understands format " + FORMAT);
    }
    String name = Text.escape(manifest.getChannel()) + " version " + Long.toUnsignedString(manifest.getVersion());
    List<PublisherPolicy> signedBy;
    try {
      signedBy = requireAuthorized(manifest.getChannel(), name, tally, root);
    } catch (VerificationException e) {
      throw e.markAboutSignatures();
    }

    requireRepresentable(manifest.getExpiresUnix(), "expiry", name);
    requireRepresentable(manifest.getCreatedUnix(), "creation", name);
    requireRepresentable(manifest.getRollout().getNotBeforeUnix(), "not-before", name);
    Instant expires = Instant.ofEpochSecond(manifest.getExpiresUnix());
    if (!now.isBefore(expires)) {
      throw new VerificationException(
          Reason.EXPIRED,
          manifest.getExpiresUnix() == 0
              ? name + " has no expiry time"
              : name + " expired at " + expires);
    }
    if (manifest.getVersion() <= 0) {
      // the store and the gossip layer compare versions as signed longs: keep them positive
      throw new VerificationException(
          Reason.MALFORMED, name + " has a version outside 1.." + Long.MAX_VALUE);
    }
    if (floor != null) {
      long accepted = floor.highestAccepted(manifest.getChannel());
      if (Long.compareUnsigned(manifest.getVersion(), accepted) <= 0) {
        throw new VerificationException(
            Reason.ROLLBACK,
            name + " is not newer than accepted version " + Long.toUnsignedString(accepted));
      }
    }
    ManifestStructure.check(manifest, limits, name);
    return new VerifiedManifest(id, signed, manifest, requireInScope(manifest, name, signedBy));
  }

  /**
   * The first rule (of those whose threshold was met) that may write every file of the manifest
   * with its modes: paths within the rule's scopes, group/world-writable files only if the rule
   * allows them. The rejection names the file and the closest rule.
   */
  private static PublisherPolicy requireInScope(Manifest m, String name, List<PublisherPolicy> signedBy) {
    VerificationException first = null;
    for (PublisherPolicy p : signedBy) {
      VerificationException why = scopeProblem(m, name, p);
      if (why == null) {
        return p;
      }
      first = first == null ? why : first;
    }
    throw first;
  }

  /** Null if {@code p} may write every file of {@code m}, else the rejection. */
  static VerificationException scopeProblem(Manifest m, String name, PublisherPolicy p) {
    for (FileEntry f : m.getFilesList()) {
      if (!p.mayWrite(f.getPath())) {
        return new VerificationException(
            Reason.OUT_OF_SCOPE,
            name + ": file " + Text.quote(f.getPath()) + " is outside the paths of publisher rule " + p.label()
                + " " + p.scopes());
      }
      if (ManifestStructure.groupOrWorldWritable(f.getMode()) && !p.allowWritable()) {
        return new VerificationException(
            Reason.BAD_MODE,
            name + ": file " + Text.quote(f.getPath()) + " has mode 0" + Integer.toOctalString(f.getMode())
                + " (group/world-writable), which publisher rule " + p.label() + " does not allow");
      }
    }
    return null;
  }

  /**
   * A threshold of one matching rule's keys must have signed; any matching rule will do. Returns
   * every rule whose threshold was met, in the root's order.
   */
  private static List<PublisherPolicy> requireAuthorized(String channel, String name, SignatureTally tally, TrustedRoot root) {
    List<PublisherPolicy> policies = root.policiesFor(channel);
    if (policies.isEmpty()) {
      throw new VerificationException(
          Reason.CHANNEL_NOT_AUTHORIZED,
          "no publisher rule of trust root version " + root.version() + " covers channel " + Text.quote(channel));
    }
    PublisherPolicy closest = null;
    int closestHave = -1;
    Set<String> authorized = new LinkedHashSet<>();
    List<PublisherPolicy> met = new java.util.ArrayList<>();
    for (PublisherPolicy p : policies) {
      int have = tally.countValid(p.keyIds());
      if (have >= p.threshold()) {
        met.add(p);
        continue;
      }
      authorized.addAll(p.keyIds());
      if (have > closestHave) {
        closest = p;
        closestHave = have;
      }
    }
    if (!met.isEmpty()) {
      return met;
    }
    if (tally.anyBad(authorized)) {
      Set<String> bad = new LinkedHashSet<>(tally.bad());
      bad.retainAll(authorized);
      throw new VerificationException(
          Reason.BAD_SIGNATURE,
          name + " has an invalid signature by key " + SignatureTally.shortIds(bad));
    }
    if (closestHave == 0) {
      throw new VerificationException(
          Reason.CHANNEL_NOT_AUTHORIZED,
          name + " is signed by " + SignatureTally.shortIds(tally.valid())
              + ", not allowed to publish this channel");
    }
    String ignored =
        tally.unknown().isEmpty() ? "" : "; ignored signatures by unknown keys " + SignatureTally.shortIds(tally.unknown());
    throw new VerificationException(
        Reason.THRESHOLD_NOT_MET,
        name + " has " + closestHave + " valid signature" + (closestHave == 1 ? "" : "s") + " of the " + closest.threshold() + " that rule "
            + Text.quote(closest.pattern().pattern()) + " requires" + ignored);
  }

  /**
   * Every time in a manifest must fit {@link Instant}: whoever reads it later (expiry here, not-before
   * in the runtime, inspect) converts it, and a signed 2^62 must be a rejection, not a
   * DateTimeException on the node's loop. (Found by the fuzzer: io.patchmesh.fuzz.)
   */
  private static void requireRepresentable(long epochSecond, String what, String name) {
    if (epochSecond < Instant.MIN.getEpochSecond() || epochSecond > Instant.MAX.getEpochSecond()) {
      throw new VerificationException(
          Reason.MALFORMED, name + " has a " + what + " time out of range (" + epochSecond + " s)");
    }
  }

  /** Why not a single signature by a known key verified. */
  private static VerificationException noValidSignature(ManifestId id, SignatureTally tally, TrustedRoot root) {
    String manifest = "manifest " + id.shortHex();
    if (!tally.bad().isEmpty()) {
      return new VerificationException(
          Reason.BAD_SIGNATURE,
          manifest + " has an invalid signature by key " + SignatureTally.shortIds(tally.bad())
              + " (the manifest or the signature was altered)");
    }
    if (!tally.unknown().isEmpty()) {
      return new VerificationException(
          Reason.UNKNOWN_KEY,
          manifest + " is signed only by keys trust root version " + root.version() + " does not know: "
              + SignatureTally.shortIds(tally.unknown()));
    }
    return new VerificationException(Reason.THRESHOLD_NOT_MET, manifest + " carries no signatures");
  }

  private static Manifest parseManifest(SignedManifest signed, ManifestId id) {
    try {
      return Manifest.parseFrom(signed.getManifest());
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(
          Reason.MALFORMED, "manifest " + id.shortHex() + " cannot be parsed (" + e.getMessage() + ")", e);
    }
  }

  /** Largest serialized envelope: the manifest cap plus room for 64 signatures (~110 bytes each). */
  public long maxEnvelopeBytes() {
    return limits.maxSignedManifestBytes() + 64L * 1024;
  }

  private SignedManifest parseEnvelope(byte[] bytes) {
    try {
      return SignedManifest.parseFrom(requireEnvelopeSize(bytes));
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(Reason.MALFORMED, "not a signed manifest (" + e.getMessage() + ")", e);
    }
  }

  private byte[] requireEnvelopeSize(byte[] bytes) {
    long cap = maxEnvelopeBytes();
    if (bytes.length > cap) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          "signed manifest is " + bytes.length + " bytes, more than this node's limit of " + cap);
    }
    return bytes;
  }
}
