package io.patchmesh.net.tls;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;

/**
 * Signing and checking membership statements with a node's mesh key. Ed25519 keys go through
 * Bouncy Castle's lightweight signer (~6x the JDK's verification rate, see STACK.md); EC keys
 * (P-256 certificates) through the JDK.
 */
final class StatementKeys {
  private StatementKeys() {}

  /** A signing key for {@code key}: BC parameters for Ed25519, the JDK key otherwise. */
  static Object signingKey(PrivateKey key) {
    if (key.getAlgorithm().equals("Ed25519") || key.getAlgorithm().equals("EdDSA")) {
      try {
        AsymmetricKeyParameter p = PrivateKeyFactory.createKey(PrivateKeyInfo.getInstance(key.getEncoded()));
        if (p instanceof Ed25519PrivateKeyParameters ed) {
          return ed;
        }
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalStateException("unreadable Ed25519 key", e);
      }
    }
    return key;
  }

  /** A verification key for {@code key}: BC parameters for Ed25519, the JDK key otherwise. */
  static Object verifyKey(PublicKey key) {
    if (key.getAlgorithm().equals("Ed25519") || key.getAlgorithm().equals("EdDSA")) {
      byte[] raw = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getBytes();
      return new Ed25519PublicKeyParameters(raw, 0);
    }
    return key;
  }

  static ByteString sign(Object key, byte[] message) {
    if (key instanceof Ed25519PrivateKeyParameters ed) {
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, ed);
      signer.update(message, 0, message.length);
      return ByteString.copyFrom(signer.generateSignature());
    }
    try {
      PrivateKey k = (PrivateKey) key;
      Signature s = Signature.getInstance(jdkAlgorithm(k.getAlgorithm()));
      s.initSign(k);
      s.update(message);
      return ByteString.copyFrom(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with a " + ((PrivateKey) key).getAlgorithm() + " key", e);
    }
  }

  static boolean verify(Object key, byte[] message, ByteString signature) {
    if (key instanceof Ed25519PublicKeyParameters ed) {
      if (signature.size() != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
        return false;
      }
      Ed25519Signer verifier = new Ed25519Signer();
      verifier.init(false, ed);
      verifier.update(message, 0, message.length);
      return verifier.verifySignature(signature.toByteArray());
    }
    if (!(key instanceof PublicKey k)) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(jdkAlgorithm(k.getAlgorithm()));
      s.initVerify(k);
      s.update(message);
      return s.verify(signature.toByteArray());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String jdkAlgorithm(String keyAlgorithm) {
    return keyAlgorithm.equals("EC") ? "SHA256withECDSA" : keyAlgorithm;
  }
}
