package io.patchmesh.mesh.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.mesh.MemberCredential;
import io.patchmesh.net.NodeId;

/**
 * A stand-in {@link MemberAuthority} for simulations and protocol tests that are about timing
 * and traffic, not about lying: every credential and signature is believed. Its credential and
 * signatures have the sizes of real ones (an Ed25519 mesh certificate, an Ed25519 signature), so
 * simulated gossip bytes are what a real mesh sends. Never use it in a node.
 */
public final class SimAuthority implements MemberAuthority {
  /** Bytes of a real node certificate from {@code patchmesh ca issue} (Ed25519, one site URI). */
  public static final int CREDENTIAL_BYTES = 430;
  public static final int SIGNATURE_BYTES = 64;
  private static final ByteString SIGNATURE = ByteString.copyFrom(new byte[SIGNATURE_BYTES]);

  private final ByteString credential;

  public SimAuthority(NodeId self) {
    byte[] c = new byte[CREDENTIAL_BYTES];
    self.toByteString().copyTo(c, 0);
    this.credential = ByteString.copyFrom(c);
  }

  @Override
  public ByteString credential() {
    return credential;
  }

  @Override
  public ByteString sign(byte[] statement) {
    return SIGNATURE;
  }

  @Override
  public MemberCredential admit(NodeId id, ByteString encoded) {
    return new MemberCredential(id, encoded, null, true, null, null);
  }

  @Override
  public boolean verify(MemberCredential credential, byte[] statement, ByteString signature) {
    return true;
  }

  @Override
  public boolean revoked(MemberCredential credential) {
    return false;
  }
}
