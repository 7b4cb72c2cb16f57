package io.patchmesh.net;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.apache.commons.codec.DecoderException;
import org.apache.commons.codec.binary.Hex;

/** The id of a node: SHA-256 of its raw public key (the key in its mesh TLS certificate). Immutable. */
public final class NodeId implements Comparable<NodeId> {
  public static final int LENGTH = 32;

  private final byte[] bytes;
  private final int hash;

  private NodeId(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  public static NodeId of(byte[] digest) {
    if (digest == null || digest.length != LENGTH) {
      throw new IllegalArgumentException("node id must be " + LENGTH + " bytes");
    }
    return new NodeId(digest.clone());
  }

  public static NodeId of(ByteString digest) {
    if (digest.size() != LENGTH) {
      throw new IllegalArgumentException("node id must be " + LENGTH + " bytes");
    }
    return new NodeId(digest.toByteArray());
  }

  /** Parses 64 hex characters. */
  public static NodeId fromHex(String hex) {
    try {
      return of(Hex.decodeHex(hex));
    } catch (DecoderException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not a node id (64 hex characters): " + hex);
    }
  }

  /** The id of a node whose raw public key is {@code publicKey}. */
  public static NodeId ofPublicKey(byte[] publicKey) {
    try {
      return new NodeId(MessageDigest.getInstance("SHA-256").digest(publicKey));
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
    return o instanceof NodeId other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(NodeId o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return hex();
  }
}
