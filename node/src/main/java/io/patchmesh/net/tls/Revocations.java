package io.patchmesh.net.tls;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.SignedRevocationList;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * The newest revocation list this node verified, shared by the transport (which refuses links of
 * revoked certificates) and membership (which refuses their news). Thread-safe: read on I/O
 * threads, replaced on the node loop.
 */
public final class Revocations {
  private final X509Certificate ca;
  private volatile RevocationList current = RevocationList.none();

  /** @param ca the mesh CA certificate lists are checked against; null in a plaintext mesh */
  public Revocations(X509Certificate ca) {
    this.ca = ca;
  }

  public RevocationList current() {
    return current;
  }

  public boolean revokes(NodeId id, BigInteger serial) {
    return current.revokes(id, serial);
  }

  public boolean revokes(X509Certificate certificate) {
    return current.revokes(certificate);
  }

  /**
   * Verifies {@code signed} and keeps it if newer than the current list. Returns the new list, or
   * empty if it was not newer (checked before the signature, so old lists cost nothing).
   *
   * @throws io.patchmesh.trust.VerificationException if it is newer but not valid
   */
  public synchronized Optional<RevocationList> offer(SignedRevocationList signed) {
    if (ca == null) {
      throw new io.patchmesh.trust.VerificationException(io.patchmesh.trust.VerificationException.Reason.UNKNOWN_KEY,
          "a plaintext mesh has no CA to check revocation lists against");
    }
    long version = versionOf(signed);
    if (version <= current.version()) {
      return Optional.empty();
    }
    RevocationList list = RevocationList.verify(signed, ca);
    current = list;
    return Optional.of(list);
  }

  /** The version a signed list claims (unverified; 0 if unreadable), to skip old lists cheaply. */
  static long versionOf(SignedRevocationList signed) {
    try {
      return io.patchmesh.proto.RevocationList.parseFrom(signed.getList()).getVersion();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return Long.MAX_VALUE; // let verify say what is wrong with it
    }
  }
}
