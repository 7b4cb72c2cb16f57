package io.patchmesh.trust;

import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.util.Objects;

/**
 * A manifest that passed {@code ManifestVerifier}: signatures meet the trust
 * root's threshold for its channel, not rolled back, not expired, sizes and
 * paths consistent. Only the verifier constructs one, so holding this type is
 * the proof that verification happened.
 */
public final class VerifiedManifest {
  private final ManifestId id;
  private final SignedManifest signed;
  private final Manifest manifest;
  private final PublisherPolicy policy;

  VerifiedManifest(ManifestId id, SignedManifest signed, Manifest manifest, PublisherPolicy policy) {
    this.id = Objects.requireNonNull(id);
    this.signed = Objects.requireNonNull(signed);
    this.manifest = Objects.requireNonNull(manifest);
    this.policy = Objects.requireNonNull(policy);
  }

  /**
   * The publisher rule that authorized it: its threshold was met and every file lies within its
   * paths. The apply checks the paths again where it writes, and runs the install command only
   * if the rule allows it.
   */
  public PublisherPolicy policy() {
    return policy;
  }

  public ManifestId id() {
    return id;
  }

  /** The signed envelope, exactly as verified (to store or forward). */
  public SignedManifest signed() {
    return signed;
  }

  /** The parsed manifest. */
  public Manifest manifest() {
    return manifest;
  }

  public String channel() {
    return manifest.getChannel();
  }

  public long version() {
    return manifest.getVersion();
  }

  @Override
  public String toString() {
    return manifest.getChannel() + " v" + manifest.getVersion() + " (" + id.shortHex() + ")";
  }
}
