package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.util.List;

/**
 * Signs manifests: the signatures cover exactly the serialized manifest bytes
 * carried in the envelope, which are never re-serialized afterwards (protobuf
 * serialization is not canonical, so re-encoding could break signatures).
 */
public final class ManifestSigner {
  private ManifestSigner() {}

  /** Serializes {@code manifest} once and signs those bytes with each key. */
  public static SignedManifest sign(Manifest manifest, List<SigningKey> keys) {
    return sign(manifest.toByteArray(), keys);
  }

  /** Signs {@code manifestBytes} (a serialized {@link Manifest}) with each key. */
  public static SignedManifest sign(byte[] manifestBytes, List<SigningKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one signing key is needed");
    }
    return SignedManifest.newBuilder()
        .setManifest(ByteString.copyFrom(manifestBytes))
        .addAllSignatures(Signing.merge(List.of(), manifestBytes, keys))
        .build();
  }

  /**
   * Adds {@code key}'s signature (co-signing, {@code patchmesh sign}); an
   * existing signature by the same key id is replaced, keeping its position.
   */
  public static SignedManifest addSignature(SignedManifest signed, SigningKey key) {
    byte[] bytes = signed.getManifest().toByteArray();
    return signed.toBuilder()
        .clearSignatures()
        .addAllSignatures(Signing.merge(signed.getSignaturesList(), bytes, List.of(key)))
        .build();
  }
}
