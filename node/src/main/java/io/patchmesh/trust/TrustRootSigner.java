package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import java.util.List;

/**
 * Signs trust roots. For a rotation, sign root N+1 with a threshold of root
 * N's root keys and a threshold of its own (possibly by different people, one
 * {@link #addSignature} each).
 */
public final class TrustRootSigner {
  private TrustRootSigner() {}

  /** Serializes {@code root} once and signs those bytes with each key. */
  public static SignedTrustRoot sign(TrustRoot root, List<SigningKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one signing key is needed");
    }
    byte[] bytes = root.toByteArray();
    return SignedTrustRoot.newBuilder()
        .setRoot(ByteString.copyFrom(bytes))
        .addAllSignatures(Signing.merge(List.of(), bytes, keys))
        .build();
  }

  /** Adds {@code key}'s signature; an existing one by the same key id is replaced. */
  public static SignedTrustRoot addSignature(SignedTrustRoot signed, SigningKey key) {
    byte[] bytes = signed.getRoot().toByteArray();
    return signed.toBuilder()
        .clearSignatures()
        .addAllSignatures(Signing.merge(signed.getSignaturesList(), bytes, List.of(key)))
        .build();
  }
}
