package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.PublicKey;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 public key: checks signatures. Immutable and thread-safe.
 *
 * <p>Verification calls Bouncy Castle's lightweight Ed25519 directly (the same
 * primitive {@code Ed25519Signer} ends in) so that a large manifest is not
 * copied into the signer's internal buffer first; BC verifies ~6x faster than
 * the JDK's SunEC.
 */
public final class VerifyKey {
  public static final int LENGTH = 32;
  public static final int SIGNATURE_LENGTH = 64;

  private final byte[] raw;
  private final Ed25519PublicKeyParameters params;
  private final String keyId;

  private VerifyKey(byte[] raw, Ed25519PublicKeyParameters params) {
    this.raw = raw;
    this.params = params;
    this.keyId = keyIdOf(raw);
  }

  /**
   * Wraps a raw 32-byte Ed25519 public key (copied).
   *
   * @throws IllegalArgumentException if it is not 32 bytes or not a valid curve point
   */
  public static VerifyKey of(byte[] raw) {
    if (raw == null || raw.length != LENGTH) {
      throw new IllegalArgumentException(
          "Ed25519 public key must be " + LENGTH + " bytes, got " + (raw == null ? "null" : raw.length));
    }
    byte[] copy = raw.clone();
    try {
      return new VerifyKey(copy, new Ed25519PublicKeyParameters(copy, 0));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a valid Ed25519 public key", e);
    }
  }

  static VerifyKey of(Ed25519PublicKeyParameters params) {
    return new VerifyKey(params.getEncoded(), params);
  }

  /** The key named by a trust root entry; does not check the entry's key id (see {@link TrustRootRules}). */
  public static VerifyKey of(PublicKey proto) {
    return of(proto.getRawKey().toByteArray());
  }

  /** Hex SHA-256 of the raw 32-byte public key: how manifests and trust roots name keys. */
  public static String keyIdOf(byte[] rawPublicKey) {
    return Sha256.hex(rawPublicKey);
  }

  /** True iff {@code signature} is a valid Ed25519 signature by this key over exactly {@code message}. */
  public boolean verify(byte[] message, byte[] signature) {
    return verify(message, 0, message.length, signature);
  }

  public boolean verify(byte[] message, int off, int len, byte[] signature) {
    if (signature == null || signature.length != SIGNATURE_LENGTH) {
      return false;
    }
    return params.verify(Ed25519.Algorithm.Ed25519, null, message, off, len, signature, 0);
  }

  public String keyId() {
    return keyId;
  }

  /** First 12 hex characters of the key id, for messages. */
  public String shortId() {
    return keyId.substring(0, 12);
  }

  /** A copy of the raw 32 bytes. */
  public byte[] raw() {
    return raw.clone();
  }

  /** The trust root entry for this key. */
  public PublicKey toProto(String name) {
    return PublicKey.newBuilder()
        .setKeyId(keyId)
        .setRawKey(ByteString.copyFrom(raw))
        .setName(name == null ? "" : name)
        .build();
  }

  Ed25519PublicKeyParameters params() {
    return params;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerifyKey other && Arrays.equals(raw, other.raw);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(raw);
  }

  @Override
  public String toString() {
    return "VerifyKey(" + shortId() + ")";
  }
}
