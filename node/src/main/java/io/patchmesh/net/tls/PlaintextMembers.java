package io.patchmesh.net.tls;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.mesh.MemberCredential;
import io.patchmesh.mesh.NewsRejection;
import io.patchmesh.net.NodeId;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * The {@link MemberAuthority} of a plaintext mesh (labs and tests, no CA): a member's credential
 * is its raw Ed25519 public key, which must hash to its id. Statements are signed, so nobody can
 * speak for another node; but anyone can make a key, so site and roles are taken as claimed and
 * nothing bounds who may join (only the table and rate caps do).
 */
public final class PlaintextMembers implements MemberAuthority {
  private final Ed25519PrivateKeyParameters key;
  private final ByteString credential;
  private final Revocations revocations;
  private final RecentSignatures signatures = new RecentSignatures(RecentSignatures.DEFAULT_CAPACITY);

  public PlaintextMembers(Ed25519PrivateKeyParameters key, Revocations revocations) {
    this.key = key;
    this.credential = ByteString.copyFrom(key.generatePublicKey().getEncoded());
    this.revocations = revocations;
  }

  public NodeId nodeId() {
    return NodeId.ofPublicKey(credential.toByteArray());
  }

  @Override
  public ByteString credential() {
    return credential;
  }

  @Override
  public ByteString sign(byte[] statement) {
    return signatures.sign(statement, m -> StatementKeys.sign(key, m));
  }

  @Override
  public MemberCredential admit(NodeId id, ByteString encoded) throws Rejected {
    if (encoded.isEmpty()) {
      throw new Rejected(NewsRejection.NO_CREDENTIAL, "no public key");
    }
    if (encoded.size() != Ed25519PublicKeyParameters.KEY_SIZE || !NodeId.ofPublicKey(encoded.toByteArray()).equals(id)) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "public key does not hash to the node id");
    }
    if (revocations.revokes(id, null)) {
      throw new Rejected(NewsRejection.REVOKED, "node id revoked");
    }
    return new MemberCredential(id, encoded, null, true, null, new Ed25519PublicKeyParameters(encoded.toByteArray(), 0));
  }

  @Override
  public boolean verify(MemberCredential credential, byte[] statement, ByteString signature) {
    return credential.key() != null && StatementKeys.verify(credential.key(), statement, signature);
  }

  @Override
  public boolean revoked(MemberCredential credential) {
    return revocations.revokes(credential.id(), null);
  }
}
