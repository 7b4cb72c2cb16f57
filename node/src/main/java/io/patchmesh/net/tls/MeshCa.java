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
 * <p>The CA key is Ed25519. Node keys are ECDSA P-256 by default ({@link KeyType#P256}): BoringSSL
 * (netty-tcnative) carries TLS only for EC keys (netty/netty#10916), and the JDK provider takes
 * them as well; {@link KeyType#ED25519} node keys (what earlier versions issued) still work, on
 * the JDK provider (see {@link TlsProviderChoice}). Chains are checked by the JDK's trust manager
 * on both providers, so an Ed25519 CA signs P-256 node certificates. A node
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

  /** The key type of a node certificate. */
  public enum KeyType {
    /** ECDSA on NIST P-256: TLS runs on BoringSSL where it loads (the default). */
    P256,
    /** Ed25519: TLS runs on the JDK provider (what versions before the BoringSSL switch issued). */
    ED25519
  }

  public static final KeyType DEFAULT_NODE_KEY_TYPE = KeyType.P256;
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  /** Default node certificate lifetime: short enough that a lost laptop's certificate dies soon. */
  public static final int DEFAULT_NODE_DAYS = 90;
  /** Longest node certificate lifetime {@code ca issue --days} accepts. */
  public static final int MAX_NODE_DAYS = 825;
  /** One line per issued certificate (name, site, node id, serial, not-after): what {@code ca revoke --node} reads. */
  public static final String ISSUED = "issued.tsv";
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
    KeyPair keys = newKeyPair(KeyType.ED25519);
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
    return issue(caDir, nodeName, site, outDir, seed, DEFAULT_NODE_DAYS);
  }

  /** As above, valid for {@code days} days (1 to {@value #MAX_NODE_DAYS}). */
  public NodeId issue(Path caDir, String nodeName, String site, Path outDir, boolean seed, int days) {
    return issue(caDir, nodeName, site, outDir, seed, days, DEFAULT_NODE_KEY_TYPE);
  }

  /** As above, with a node key of {@code keyType}. */
  public NodeId issue(Path caDir, String nodeName, String site, Path outDir, boolean seed, int days, KeyType keyType) {
    if (days < 1 || days > MAX_NODE_DAYS) {
      throw new UserInputException("--days " + days + ": a node certificate lives 1 to " + MAX_NODE_DAYS + " days");
    }
    if (nodeName != null && (nodeName.contains("\t") || nodeName.contains("\n"))) {
      throw new UserInputException("node name must not contain tabs or newlines");
    }
    if (nodeName == null || nodeName.isBlank() || nodeName.length() > 64) {
      throw new UserInputException("node name must be 1-64 characters, got \"" + nodeName + "\"");
    }
    checkSite(site);
    if (seed && PeerCertificates.ROAMING_SITE.equals(site)) {
      throw new UserInputException("--site auto makes a roaming agent certificate (any discovered site); a seed names its site");
    }
    PrivateKey caKey = PemFiles.readPrivateKey(caDir.resolve(CA_KEY));
    X509Certificate caCert = PemFiles.readCertificate(caDir.resolve(CA_CERT));
    createDirectories(outDir);
    if (Files.exists(outDir.resolve(NODE_KEY))) {
      throw new UserInputException(outDir.resolve(NODE_KEY) + " already exists; refusing to overwrite a key");
    }
    KeyPair keys = newKeyPair(keyType);
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.OU, site)
        .addRDN(BCStyle.CN, nodeName)
        .build();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
              caCert, serial(), Date.from(now.minus(BACKDATE)), Date.from(now.plus(Duration.ofDays(days))),
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
      NodeId id = PeerCertificates.nodeIdOf(keys.getPublic());
      IssuedCertificates.append(caDir, new IssuedCertificates.Entry(nodeName, site, id,
          certificate.getSerialNumber(), certificate.getNotAfter().toInstant()));
      return id;
    } catch (CertIOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the node certificate", e);
    }
  }

  /**
   * Revokes node ids and certificate serials: writes to {@code out} a revocation list signed by the
   * CA holding these and everything the list already at {@code out} revoked. Its version is above
   * the old list's and at least the current time in milliseconds, so lists made from different
   * copies still order by time.
   *
   * @throws io.patchmesh.trust.VerificationException if {@code out} holds a list this CA did not sign
   */
  public RevocationList revoke(Path caDir, java.util.Set<NodeId> nodeIds, java.util.Set<BigInteger> serials, Path out) {
    PrivateKey caKey = PemFiles.readPrivateKey(caDir.resolve(CA_KEY));
    X509Certificate caCert = PemFiles.readCertificate(caDir.resolve(CA_CERT));
    java.util.Set<NodeId> ids = new java.util.HashSet<>(nodeIds);
    java.util.Set<BigInteger> sns = new java.util.HashSet<>(serials);
    long version = 0;
    if (Files.exists(out)) {
      RevocationList old;
      try {
        old = RevocationList.verify(Files.readAllBytes(out), caCert);
      } catch (IOException e) {
        throw new UserInputException("cannot read " + out + ": " + e.getMessage(), e);
      } catch (io.patchmesh.trust.VerificationException e) {
        throw new io.patchmesh.trust.VerificationException(e.reason(), out + ": " + e.getMessage());
      }
      ids.addAll(old.nodeIds());
      sns.addAll(old.serials());
      version = old.version();
    }
    long now = clock.millis();
    var signed = RevocationList.sign(Math.max(version + 1, now), now, ids, sns, caKey);
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
      Files.write(tmp, signed.toByteArray());
      Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UserInputException("cannot write " + out + ": " + e.getMessage(), e);
    }
    return RevocationList.verify(signed, caCert);
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

  private static KeyPair newKeyPair(KeyType type) {
    try {
      if (type == KeyType.P256) {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
      }
      return KeyPairGenerator.getInstance(KEY_ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("JDK lacks " + type + " keys", e);
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
