package io.patchmesh.discovery;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.mesh.MemberCredential;
import io.patchmesh.net.NodeId;

/** {@link AnnouncementTrust} by the mesh's own authority: the fleet CA's certificates and revocations. */
public final class AuthorityTrust implements AnnouncementTrust {
  private final MemberAuthority authority;

  public AuthorityTrust(MemberAuthority authority) {
    this.authority = authority;
  }

  @Override
  public byte[] credential() {
    return authority.credential().toByteArray();
  }

  @Override
  public byte[] sign(byte[] body) {
    return authority.sign(body).toByteArray();
  }

  @Override
  public boolean verify(byte[] nodeId, byte[] credential, byte[] body, byte[] signature) {
    if (nodeId.length != 32) {
      return false;
    }
    try {
      MemberCredential c = authority.admit(NodeId.of(nodeId), ByteString.copyFrom(credential));
      return !authority.revoked(c) && authority.verify(c, body, ByteString.copyFrom(signature));
    } catch (MemberAuthority.Rejected e) {
      return false;
    }
  }
}
