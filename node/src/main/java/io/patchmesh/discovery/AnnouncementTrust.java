package io.patchmesh.discovery;

/**
 * Signs our announcements with the node key and checks others' against the fleet: the sender's
 * credential must be a fleet credential for its node id and the signature must verify under it.
 * Production adapts the mesh's {@link io.patchmesh.mesh.MemberAuthority} ({@link AuthorityTrust});
 * must not block (about one signature check per call).
 */
public interface AnnouncementTrust {
  /** Our credential (certificate DER, or raw key in a plaintext mesh). */
  byte[] credential();

  byte[] sign(byte[] body);

  boolean verify(byte[] nodeId, byte[] credential, byte[] body, byte[] signature);
}
