package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.apache.commons.codec.DecoderException;
import org.apache.commons.codec.binary.Hex;

/** The id of a manifest: SHA-256 of the exact signed manifest bytes. Immutable. */
public final class ManifestId implements Comparable<ManifestId> {
  public static final int LENGTH = 32;

  private final byte[] bytes;
  private final int hash;

  private ManifestId(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  public static ManifestId of(byte[] digest) {
    if (digest == null || digest.length != LENGTH) {
      throw new IllegalArgumentException("manifest id must be " + LENGTH + " bytes");
    }
    return new ManifestId(digest.clone());
  }

  public static ManifestId of(ByteString digest) {
    if (digest.size() != LENGTH) {
      throw new IllegalArgumentException("manifest id must be " + LENGTH + " bytes");
    }
    return new ManifestId(digest.toByteArray());
  }

  /** Parses 64 hex characters. */
  public static ManifestId fromHex(String hex) {
    try {
      return of(Hex.decodeHex(hex));
    } catch (DecoderException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a manifest id (64 hex characters): " + hex);
    }
  }

  /** The id of the given serialized manifest bytes. */
  public static ManifestId ofManifestBytes(byte[] manifestBytes) {
    try {
      return new ManifestId(MessageDigest.getInstance("SHA-256").digest(manifestBytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  public ByteString toByteString() {
    return ByteString.copyFrom(bytes);
  }

  public String hex() {
    return Hex.encodeHexString(bytes);
  }

  public String shortHex() {
    return hex().substring(0, 12);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManifestId other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(ManifestId o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return hex();
  }
}
