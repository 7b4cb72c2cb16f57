package io.patchmesh.net.tls;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;

/**
 * A node's mutual-TLS identity, loaded from the directory {@code ca issue} wrote:
 * its private key, its certificate, the mesh CA certificate, and what the
 * certificate says (node id, site). Loading checks that the key matches the
 * certificate and that the CA signed it, so a mixed-up directory fails at start
 * with one line, not at the first handshake.
 */
public record NodeIdentity(
    PrivateKey privateKey, X509Certificate certificate, X509Certificate caCertificate, NodeId nodeId, String site) {

  public static NodeIdentity load(Path nodeDir) {
    PrivateKey key = PemFiles.readPrivateKey(nodeDir.resolve(MeshCa.NODE_KEY));
    X509Certificate cert = PemFiles.readCertificate(nodeDir.resolve(MeshCa.NODE_CERT));
    X509Certificate ca = PemFiles.readCertificate(nodeDir.resolve(MeshCa.CA_CERT));
    try {
      cert.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new UserInputException(nodeDir.resolve(MeshCa.NODE_CERT) + " is not signed by "
          + nodeDir.resolve(MeshCa.CA_CERT));
    }
    if (!keyMatches(key, cert)) {
      throw new UserInputException(nodeDir.resolve(MeshCa.NODE_KEY) + " does not belong to "
          + nodeDir.resolve(MeshCa.NODE_CERT));
    }
    if (cert.getNotAfter().toInstant().isBefore(java.time.Instant.now())) {
      throw new UserInputException(nodeDir.resolve(MeshCa.NODE_CERT) + " expired on " + cert.getNotAfter().toInstant()
          + "; issue a new one with: patchmesh ca issue --days N ...");
    }
    String site = PeerCertificates.siteOf(cert).orElseThrow(() -> new UserInputException(
        nodeDir.resolve(MeshCa.NODE_CERT) + " names no site (SAN URI " + PeerCertificates.SITE_URI_PREFIX + "SITE)"));
    return new NodeIdentity(key, cert, ca, PeerCertificates.nodeIdOf(cert), site);
  }

  /** Signs a probe with the key and verifies it with the certificate: works for every key type. */
  private static boolean keyMatches(PrivateKey key, X509Certificate cert) {
    try {
      String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : key.getAlgorithm();
      byte[] probe = "patchmesh key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "NodeIdentity[" + nodeId.shortHex() + " site=" + site + "]";
  }
}
