package io.patchmesh.net.tls;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.mesh.MemberCredential;
import io.patchmesh.mesh.NewsRejection;
import io.patchmesh.net.NodeId;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import java.util.Optional;

/**
 * The {@link MemberAuthority} of a mesh with a CA: a member's credential is its node certificate
 * (DER), believed when the mesh CA signed it, it is valid now, its key hashes to the member's id,
 * it names a site, and the revocation list does not name it. The site and seed role the
 * certificate grants are what the member may claim. This node signs with its certificate's key,
 * once per distinct statement ({@link RecentSignatures}).
 */
public final class CertifiedMembers implements MemberAuthority {
  private final NodeIdentity identity;
  private final Object caKey;
  private final Object signingKey;
  private final ByteString credential;
  private final Revocations revocations;
  private final Clock clock;
  private final RecentSignatures signatures = new RecentSignatures(RecentSignatures.DEFAULT_CAPACITY);

  public CertifiedMembers(NodeIdentity identity, Revocations revocations, Clock clock) {
    this.identity = identity;
    this.caKey = StatementKeys.verifyKey(identity.caCertificate().getPublicKey());
    this.signingKey = StatementKeys.signingKey(identity.privateKey());
    this.revocations = revocations;
    this.clock = clock;
    try {
      this.credential = ByteString.copyFrom(identity.certificate().getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode our own certificate", e);
    }
  }

  @Override
  public ByteString credential() {
    return credential;
  }

  @Override
  public ByteString sign(byte[] statement) {
    return signatures.sign(statement, m -> StatementKeys.sign(signingKey, m));
  }

  @Override
  public MemberCredential admit(NodeId id, ByteString encoded) throws Rejected {
    try {
      return check(id, encoded);
    } catch (RuntimeException e) {
      // a certificate that parses but whose key or extensions do not: bad input, not a bug here
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "malformed certificate: " + e.getClass().getSimpleName());
    }
  }

  private MemberCredential check(NodeId id, ByteString encoded) throws Rejected {
    if (encoded.isEmpty()) {
      throw new Rejected(NewsRejection.NO_CREDENTIAL, "no certificate");
    }
    X509Certificate cert;
    try {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(encoded.toByteArray()));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "unreadable certificate");
    }
    // cheap checks first: a flood of borrowed or garbled certificates costs no signature check
    if (!PeerCertificates.nodeIdOf(cert).equals(id)) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "certificate of another node");
    }
    Optional<String> site = PeerCertificates.siteOf(cert);
    if (site.isEmpty()) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "certificate names no site");
    }
    try {
      cert.checkValidity(Date.from(clock.instant()));
    } catch (GeneralSecurityException e) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "certificate not valid now");
    }
    if (!cert.getIssuerX500Principal().equals(identity.caCertificate().getSubjectX500Principal())
        || !signedByCa(cert)) {
      throw new Rejected(NewsRejection.BAD_CREDENTIAL, "not issued by the mesh CA");
    }
    if (revocations.revokes(cert)) {
      throw new Rejected(NewsRejection.REVOKED, "certificate revoked");
    }
    return new MemberCredential(id, encoded, site.get(), PeerCertificates.grantsSeedRole(cert),
        cert.getSerialNumber().toString(16), StatementKeys.verifyKey(cert.getPublicKey()));
  }

  @Override
  public boolean verify(MemberCredential credential, byte[] statement, ByteString signature) {
    return credential.key() != null && StatementKeys.verify(credential.key(), statement, signature);
  }

  @Override
  public boolean revoked(MemberCredential credential) {
    return revocations.revokes(credential.id(),
        credential.serial() == null ? null : new java.math.BigInteger(credential.serial(), 16));
  }

  /** The CA's signature over the certificate; Ed25519 through BC (fast), anything else through the JDK. */
  private boolean signedByCa(X509Certificate cert) {
    if ("1.3.101.112".equals(cert.getSigAlgOID())) {
      try {
        return StatementKeys.verify(caKey, cert.getTBSCertificate(), ByteString.copyFrom(cert.getSignature()));
      } catch (GeneralSecurityException e) {
        return false;
      }
    }
    try {
      cert.verify(identity.caCertificate().getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
