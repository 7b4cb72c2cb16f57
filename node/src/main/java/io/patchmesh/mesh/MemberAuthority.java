package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;

/**
 * Who may be believed about themselves: signs this node's own statements and checks other
 * members' credentials and signatures. Injected into {@link Membership} so the protocol stays
 * sans-I/O: production uses the mesh CA's certificates (or raw keys in a plaintext mesh), the
 * simulation a stand-in of realistic sizes that checks nothing. Calls must not block.
 */
public interface MemberAuthority {

  /** This node's own credential (certificate DER, or raw public key). */
  ByteString credential();

  /** Signs a statement of this node (the bytes of {@link MemberStatement}). */
  ByteString sign(byte[] statement);

  /**
   * Checks the credential {@code encoded} of member {@code id}: issued by the fleet's CA, valid
   * now, for this id, not revoked. Costs about one signature check.
   *
   * @throws Rejected with {@link NewsRejection#NO_CREDENTIAL} if {@code encoded} is empty and one
   *     is needed, or {@link NewsRejection#BAD_CREDENTIAL} / {@link NewsRejection#REVOKED}
   */
  MemberCredential admit(NodeId id, ByteString encoded) throws Rejected;

  /** True if {@code signature} is {@code credential}'s key's signature over {@code statement}. */
  boolean verify(MemberCredential credential, byte[] statement, ByteString signature);

  /** True if the credential (its id or serial) is on the current revocation list. */
  boolean revoked(MemberCredential credential);

  /** A credential that cannot be believed, and why. */
  final class Rejected extends Exception {
    private final NewsRejection reason;

    public Rejected(NewsRejection reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }

    public NewsRejection reason() {
      return reason;
    }
  }
}
