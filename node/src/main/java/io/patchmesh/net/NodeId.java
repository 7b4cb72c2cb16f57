package io.patchmesh.net;

import com.google.protobuf.ByteString;
import io.patchmesh.trust.Sha256Name;

/**
 * The id of a node: SHA-256 of its raw public key (the key in its mesh TLS
 * certificate). Immutable.
 */
public final class NodeId extends Sha256Name implements Comparable<NodeId> {
  private static final String KIND = "node id";

  private NodeId(byte[] bytes) {
    super(bytes);
  }

  public static NodeId of(byte[] digest) {
    return new NodeId(checked(digest, KIND));
  }

  public static NodeId of(ByteString digest) {
    return new NodeId(checked(digest, KIND));
  }

  /** Parses 64 hex characters. */
  public static NodeId fromHex(String hex) {
    return new NodeId(fromHex(hex, KIND));
  }

  /** The id of a node whose raw public key is {@code publicKey}. */
  public static NodeId ofPublicKey(byte[] publicKey) {
    return new NodeId(sha256(publicKey));
  }

  @Override
  public int compareTo(NodeId o) {
    return compareBytes(o);
  }
}
