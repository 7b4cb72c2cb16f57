package io.patchmesh.net.tls;

import io.patchmesh.net.NodeId;
import java.security.PublicKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** What a mesh certificate says about its node: the node id and the site. */
public final class PeerCertificates {
  /** SAN URI that names the node's site: {@code patchmesh:site:SITE}. */
  public static final String SITE_URI_PREFIX = "patchmesh:site:";
  /** SAN URI that grants the seed role. */
  public static final String SEED_ROLE_URI = "patchmesh:role:seed";
  /**
   * The site of a roaming certificate ({@code patchmesh ca issue --site auto}): its node finds its
   * site on the LAN ({@code site: auto}, io.patchmesh.discovery) and may claim any site name.
   */
  public static final String ROAMING_SITE = "auto";
  private static final int SAN_URI = 6;

  private PeerCertificates() {}

  /** SHA-256 of the raw public key (the subjectPublicKey bits, e.g. the 32 bytes of an Ed25519 key). */
  public static NodeId nodeIdOf(PublicKey key) {
    byte[] raw = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getBytes();
    return NodeId.ofPublicKey(raw);
  }

  public static NodeId nodeIdOf(X509Certificate certificate) {
    return nodeIdOf(certificate.getPublicKey());
  }

  /** True if the certificate grants the seed role. */
  public static boolean grantsSeedRole(X509Certificate certificate) {
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      return names != null && names.stream().anyMatch(n -> n.size() == 2
          && Integer.valueOf(SAN_URI).equals(n.get(0)) && SEED_ROLE_URI.equals(n.get(1)));
    } catch (CertificateParsingException e) {
      return false;
    }
  }

  /** The site from the certificate's {@code patchmesh:site:} SAN URI, if it has exactly one. */
  public static Optional<String> siteOf(X509Certificate certificate) {
    Collection<List<?>> names;
    try {
      names = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
    if (names == null) {
      return Optional.empty();
    }
    List<String> sites = names.stream()
        .filter(n -> n.size() == 2 && Integer.valueOf(SAN_URI).equals(n.get(0)) && n.get(1) instanceof String)
        .map(n -> (String) n.get(1))
        .filter(uri -> uri.startsWith(SITE_URI_PREFIX))
        .map(uri -> uri.substring(SITE_URI_PREFIX.length()))
        .toList();
    return sites.size() == 1 ? Optional.of(sites.get(0)) : Optional.empty();
  }

  /**
   * True if a node whose certificate names {@code certified} may claim {@code claimed}: the same
   * name, or any name but "auto" itself for a roaming certificate ({@link #ROAMING_SITE}).
   */
  public static boolean permitsSite(String certified, String claimed) {
    return !claimed.equals(ROAMING_SITE) && (certified.equals(claimed) || certified.equals(ROAMING_SITE));
  }
}
