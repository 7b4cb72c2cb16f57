package io.patchmesh.net.tls;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mesh's own certificate authority for mutual TLS. {@link #init} creates
 * {@code ca.key} + {@code ca.crt}; {@link #issue} creates a node directory with
 * {@code node.key}, {@code node.crt} and a copy of {@code ca.crt}.
 *
 * <p>Keys are Ed25519: the JDK 17 TLS 1.3 provider negotiates the ed25519
 * signature scheme and Netty handshakes with it (see MeshCaTest). A node
 * certificate names its site in a SAN URI {@code patchmesh:site:SITE} (and in the
 * subject OU for people reading it); peers check a Hello's site against that URI.
 * Signing uses the JDK provider: issuing certificates is rare, so speed is moot,
 * and no global provider registration is needed.
 */
public final class MeshCa {
  public static final String CA_KEY = "ca.key";
  public static final String CA_CERT = "ca.crt";
  public static final String NODE_KEY = "node.key";
  public static final String NODE_CERT = "node.crt";

  /** A site name travels in URIs, logs and file names: keep it plain. */
  private static final Pattern SITE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  static final String KEY_ALGORITHM = "Ed25519";
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final Duration NODE_VALIDITY = Duration.ofDays(825);
  /** Tolerates clocks of other nodes running a little behind ours. */
  private static final Duration BACKDATE = Duration.ofHours(1);

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public MeshCa() {
    this(Clock.systemUTC());
  }

  public MeshCa(Clock clock) {
    this.clock = clock;
  }

  /** Creates a new CA in {@code caDir} (created if missing); refuses to overwrite an existing one. */
  public void init(Path caDir) {
    createDirectories(caDir);
    if (Files.exists(caDir.resolve(CA_KEY)) || Files.exists(caDir.resolve(CA_CERT))) {
      throw new UserInputException(caDir + " already holds a CA; refusing to overwrite it");
    }
    KeyPair keys = newKeyPair();
    X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, "patchmesh mesh CA " + new BigInteger(32, random).toString(16))
        .build();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
              name, serial(), Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)),
              name, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate certificate = sign(builder, keys.getPrivate());
      PemFiles.writePrivateKey(caDir.resolve(CA_KEY), keys.getPrivate());
      PemFiles.writeCertificate(caDir.resolve(CA_CERT), certificate);
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the CA certificate", e);
    }
  }

  /**
   * Issues an agent certificate for node {@code nodeName} at {@code site} into
   * {@code outDir} (created if missing) and returns the new node's id.
   */
  public NodeId issue(Path caDir, String nodeName, String site, Path outDir) {
    return issue(caDir, nodeName, site, outDir, false);
  }

  /**
   * Issues a certificate; with {@code seed} it also grants the seed role (a SAN
   * URI {@code patchmesh:role:seed}), which agents require before they honour a
   * seed's rollout decisions (stage openings, pause, abort).
   */
  public NodeId issue(Path caDir, String nodeName, String site, Path outDir, boolean seed) {
    if (nodeName == null || nodeName.isBlank() || nodeName.length() > 64) {
      throw new UserInputException("node name must be 1-64 characters, got \"" + nodeName + "\"");
    }
    checkSite(site);
    PrivateKey caKey = PemFiles.readPrivateKey(caDir.resolve(CA_KEY));
    X509Certificate caCert = PemFiles.readCertificate(caDir.resolve(CA_CERT));
    createDirectories(outDir);
    if (Files.exists(outDir.resolve(NODE_KEY))) {
      throw new UserInputException(outDir.resolve(NODE_KEY) + " already exists; refusing to overwrite a key");
    }
    KeyPair keys = newKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.OU, site)
        .addRDN(BCStyle.CN, nodeName)
        .build();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
              caCert, serial(), Date.from(now.minus(BACKDATE)), Date.from(now.plus(NODE_VALIDITY)),
              subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(seed
              ? new GeneralName[] {
                  new GeneralName(GeneralName.uniformResourceIdentifier, PeerCertificates.SITE_URI_PREFIX + site),
                  new GeneralName(GeneralName.uniformResourceIdentifier, PeerCertificates.SEED_ROLE_URI)}
              : new GeneralName[] {
                  new GeneralName(GeneralName.uniformResourceIdentifier, PeerCertificates.SITE_URI_PREFIX + site)}))
          .addExtension(Extension.authorityKeyIdentifier, false,
              extensions.createAuthorityKeyIdentifier(caCert));
      X509Certificate certificate = sign(builder, caKey);
      PemFiles.writePrivateKey(outDir.resolve(NODE_KEY), keys.getPrivate());
      PemFiles.writeCertificate(outDir.resolve(NODE_CERT), certificate);
      PemFiles.writeCertificate(outDir.resolve(CA_CERT), caCert);
      return PeerCertificates.nodeIdOf(keys.getPublic());
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the node certificate", e);
    }
  }

  /** Throws a {@link UserInputException} unless {@code site} is a usable site name. */
  public static void checkSite(String site) {
    if (site == null || !SITE.matcher(site).matches()) {
      throw new UserInputException("site must be 1-63 of A-Z a-z 0-9 . _ - (starting with a letter or digit), got \""
          + site + "\"");
    }
  }

  private X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(signer.getAlgorithm().equals("EC")
              ? "SHA256withECDSA" : KEY_ALGORITHM).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private BigInteger serial() {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  private static KeyPair newKeyPair() {
    try {
      return KeyPairGenerator.getInstance(KEY_ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("JDK lacks " + KEY_ALGORITHM, e);
    }
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UserInputException("cannot create directory " + dir + ": " + e.getMessage(), e);
    }
  }
}
