package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import java.util.Arrays;
import org.apache.commons.codec.DecoderException;
import org.apache.commons.codec.binary.Hex;

/**
 * A name that is a SHA-256 digest: of a chunk's bytes (ChunkId), of a
 * manifest's signed bytes (ManifestId), of a node's public key (NodeId).
 * Immutable; equal only to a name of the same kind with the same bytes.
 */
public abstract class Sha256Name {
  public static final int LENGTH = 32;

  private final byte[] bytes;
  private final int hash;
  /** {@link #toByteString}, made at its first call (immutable: a race makes two equal ones, no harm). */
  private ByteString byteString;

  /** Takes ownership of {@code digest} (callers pass a fresh or copied array). */
  protected Sha256Name(byte[] digest) {
    this.bytes = digest;
    this.hash = Arrays.hashCode(digest);
  }

  /** A copy of {@code digest}, checked to be 32 bytes. */
  protected static byte[] checked(byte[] digest, String kind) {
    if (digest == null || digest.length != LENGTH) {
      throw new IllegalArgumentException(
          kind + " must be " + LENGTH + " bytes, got " + (digest == null ? "null" : digest.length));
    }
    return digest.clone();
  }

  protected static byte[] checked(ByteString digest, String kind) {
    if (digest.size() != LENGTH) {
      throw new IllegalArgumentException(kind + " must be " + LENGTH + " bytes, got " + digest.size());
    }
    return digest.toByteArray();
  }

  /** Decodes 64 hex characters. */
  protected static byte[] fromHex(String hex, String kind) {
    try {
      return checked(Hex.decodeHex(hex), kind);
    } catch (DecoderException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a " + kind + " (64 hex characters): " + hex);
    }
  }

  /** SHA-256 of {@code data} ({@link Sha256Digest}). */
  protected static byte[] sha256(byte[] data) {
    return Sha256Digest.of(data);
  }

  public final byte[] toBytes() {
    return bytes.clone();
  }

  public final ByteString toByteString() {
    ByteString b = byteString;
    if (b == null) {
      b = ByteString.copyFrom(bytes);
      byteString = b;
    }
    return b;
  }

  /** The raw digest, not copied: callers must not modify it. */
  protected final byte[] raw() {
    return bytes;
  }

  public final String hex() {
    return Hex.encodeHexString(bytes);
  }

  /** First 12 hex characters, for logs. */
  public final String shortHex() {
    return hex().substring(0, 12);
  }

  protected final int compareBytes(Sha256Name o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public final boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && Arrays.equals(bytes, ((Sha256Name) o).bytes);
  }

  @Override
  public final int hashCode() {
    return hash;
  }

  @Override
  public final String toString() {
    return hex();
  }
}
