package io.patchmesh.net.tls;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.SignedRevocationList;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerificationException.Reason;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.Set;

/**
 * The mesh CA's signed list of revoked node certificates, by node id and by serial. Versions only
 * grow: a node keeps the newest list it verified and passes it on. {@link #verify} is the only way
 * to get one from bytes, so every instance was signed by the CA it was checked against.
 *
 * @param signed the list as signed and spread on the wire (kept to pass it on unchanged)
 */
public record RevocationList(long version, long issuedMillis, Set<NodeId> nodeIds, Set<BigInteger> serials,
    SignedRevocationList signed) {
  /** Bounds what a peer can make us parse and hold: ~100,000 entries. */
  public static final int MAX_BYTES = 4 << 20;
  private static final byte[] DOMAIN = "patchmesh revocations v1\n".getBytes(StandardCharsets.US_ASCII);

  public RevocationList {
    nodeIds = Set.copyOf(nodeIds);
    serials = Set.copyOf(serials);
  }

  /** The list that revokes nothing (version 0), before any list is loaded. */
  public static RevocationList none() {
    return new RevocationList(0, 0, Set.of(), Set.of(), SignedRevocationList.getDefaultInstance());
  }

  public boolean revokes(NodeId id, BigInteger serial) {
    return nodeIds.contains(id) || (serial != null && serials.contains(serial));
  }

  public boolean revokes(X509Certificate certificate) {
    return revokes(PeerCertificates.nodeIdOf(certificate), certificate.getSerialNumber());
  }

  /** Signs a list with the CA's key. */
  public static SignedRevocationList sign(long version, long issuedMillis, Set<NodeId> nodeIds,
      Set<BigInteger> serials, PrivateKey caKey) {
    io.patchmesh.proto.RevocationList.Builder list = io.patchmesh.proto.RevocationList.newBuilder()
        .setVersion(version).setIssuedMillis(issuedMillis);
    nodeIds.stream().sorted().forEach(id -> list.addNodeIds(id.toByteString()));
    serials.stream().sorted().forEach(s -> list.addSerials(ByteString.copyFrom(unsigned(s))));
    ByteString bytes = list.build().toByteString();
    try {
      Signature signer = Signature.getInstance(algorithm(caKey.getAlgorithm()));
      signer.initSign(caKey);
      signer.update(DOMAIN);
      signer.update(bytes.toByteArray());
      return SignedRevocationList.newBuilder().setList(bytes).setSignature(ByteString.copyFrom(signer.sign())).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign the revocation list", e);
    }
  }

  /** Parses and checks a signed list against the CA's certificate; throws with the reason. */
  public static RevocationList verify(byte[] bytes, X509Certificate ca) {
    if (bytes.length > MAX_BYTES) {
      throw new VerificationException(Reason.LIMITS_EXCEEDED, "revocation list of " + bytes.length
          + " bytes is over the " + MAX_BYTES + "-byte limit");
    }
    try {
      return verify(SignedRevocationList.parseFrom(bytes), ca);
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(Reason.MALFORMED, "not a signed revocation list: " + e.getMessage());
    }
  }

  public static RevocationList verify(SignedRevocationList signed, X509Certificate ca) {
    if (signed.getSerializedSize() > MAX_BYTES) {
      throw new VerificationException(Reason.LIMITS_EXCEEDED, "revocation list over the " + MAX_BYTES + "-byte limit");
    }
    PublicKey key = ca.getPublicKey();
    try {
      Signature verifier = Signature.getInstance(algorithm(key.getAlgorithm()));
      verifier.initVerify(key);
      verifier.update(DOMAIN);
      verifier.update(signed.getList().toByteArray());
      if (!verifier.verify(signed.getSignature().toByteArray())) {
        throw new VerificationException(Reason.BAD_SIGNATURE, "revocation list is not signed by the mesh CA ("
            + ca.getSubjectX500Principal().getName() + ")");
      }
    } catch (GeneralSecurityException e) {
      throw new VerificationException(Reason.BAD_SIGNATURE, "revocation list signature does not verify: " + e.getMessage());
    }
    io.patchmesh.proto.RevocationList list;
    try {
      list = io.patchmesh.proto.RevocationList.parseFrom(signed.getList());
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(Reason.MALFORMED, "signed revocation list holds no list: " + e.getMessage());
    }
    if (list.getVersion() < 1) {
      throw new VerificationException(Reason.MALFORMED, "revocation list without a version");
    }
    Set<NodeId> ids = new HashSet<>();
    for (ByteString id : list.getNodeIdsList()) {
      if (id.size() != NodeId.LENGTH) {
        throw new VerificationException(Reason.MALFORMED, "revocation list names a node id of " + id.size() + " bytes");
      }
      ids.add(NodeId.of(id));
    }
    Set<BigInteger> serials = new HashSet<>();
    for (ByteString s : list.getSerialsList()) {
      if (s.isEmpty() || s.size() > 20) {
        throw new VerificationException(Reason.MALFORMED, "revocation list names a serial of " + s.size() + " bytes");
      }
      serials.add(new BigInteger(1, s.toByteArray()));
    }
    return new RevocationList(list.getVersion(), list.getIssuedMillis(), ids, serials, signed);
  }

  private static byte[] unsigned(BigInteger serial) {
    byte[] b = serial.toByteArray();
    return b.length > 1 && b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  private static String algorithm(String keyAlgorithm) {
    return keyAlgorithm.equals("EC") ? "SHA256withECDSA" : keyAlgorithm;
  }
}
