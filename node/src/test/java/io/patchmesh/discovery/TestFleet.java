package io.patchmesh.discovery;

import io.patchmesh.net.NodeId;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * A fleet for tests: real Ed25519 node keys; the fleet's credentials are the raw public keys it
 * enrolled (a stand-in for the CA: the production trust is {@link AuthorityTrust}).
 */
final class TestFleet {
  private final Set<String> enrolled = new HashSet<>();
  private final SecureRandom random = new SecureRandom();

  /** A node's key and its trust; {@code enrol} = false makes an outsider with a key of its own. */
  Member member(boolean enrol) {
    Ed25519KeyPairGenerator g = new Ed25519KeyPairGenerator();
    g.init(new Ed25519KeyGenerationParameters(random));
    AsymmetricCipherKeyPair kp = g.generateKeyPair();
    byte[] pub = ((Ed25519PublicKeyParameters) kp.getPublic()).getEncoded();
    if (enrol) {
      enrolled.add(java.util.HexFormat.of().formatHex(pub));
    }
    return new Member(NodeId.ofPublicKey(pub), pub, (Ed25519PrivateKeyParameters) kp.getPrivate());
  }

  final class Member implements AnnouncementTrust {
    final NodeId id;
    final byte[] pub;
    private final Ed25519PrivateKeyParameters key;

    Member(NodeId id, byte[] pub, Ed25519PrivateKeyParameters key) {
      this.id = id;
      this.pub = pub;
      this.key = key;
    }

    @Override
    public byte[] credential() {
      return pub.clone();
    }

    @Override
    public byte[] sign(byte[] body) {
      Ed25519Signer s = new Ed25519Signer();
      s.init(true, key);
      s.update(body, 0, body.length);
      return s.generateSignature();
    }

    @Override
    public boolean verify(byte[] nodeId, byte[] credential, byte[] body, byte[] signature) {
      if (credential.length != 32 || !enrolled.contains(java.util.HexFormat.of().formatHex(credential))
          || !NodeId.ofPublicKey(credential).equals(NodeId.of(nodeId))) {
        return false;
      }
      Ed25519Signer v = new Ed25519Signer();
      v.init(false, new Ed25519PublicKeyParameters(credential, 0));
      v.update(body, 0, body.length);
      return v.verifySignature(signature);
    }
  }
}
