package io.patchmesh.net.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Date;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Trusts the mesh CA and nothing else: the JDK's PKIX trust manager over a key store holding
 * only {@code ca.crt}, with the JDK's default certificate-path algorithm constraints (which accept
 * the Ed25519 CA's signatures and refuse MD5, SHA-1 and the like).
 *
 * <p>The engine-aware checks call the plain ones. Given an engine, the JDK's trust manager would
 * also check each chain signature against the signature algorithms the TLS library advertises in
 * that session; BoringSSL does not list Ed25519, so an Ed25519 CA's node certificates would be
 * refused under BoringSSL although nothing is wrong with them. Hostname checks are off for the
 * mesh anyway (peers are identified by key; the transport checks the Hello against the
 * certificate, revocation and site after the handshake). The same checks run on both providers.
 *
 * <p>Chains that passed are remembered by their bytes ({@link VerifiedChains}): a peer met again
 * costs a hash and a validity-date check instead of the CA signature check. Revocation is not
 * this class's (the transport checks it after every handshake), so the cache cannot hide it.
 */
final class MeshTrustManager extends X509ExtendedTrustManager {
  private final X509TrustManager pkix;
  private final X509Certificate caCertificate;
  private final VerifiedChains verified;
  private final Clock clock;

  MeshTrustManager(X509Certificate caCertificate) {
    this(caCertificate, new VerifiedChains(VerifiedChains.DEFAULT_CAPACITY), Clock.systemUTC());
  }

  /** {@code clock} dates the validity check of a chain found in {@code verified}. */
  MeshTrustManager(X509Certificate caCertificate, VerifiedChains verified, Clock clock) {
    this.caCertificate = caCertificate;
    this.verified = verified;
    this.clock = clock;
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("mesh-ca", caCertificate);
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      X509TrustManager found = null;
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          found = x509;
        }
      }
      if (found == null) {
        throw new IllegalStateException("the JDK offers no X.509 trust manager");
      }
      this.pkix = found;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build the mesh CA trust manager", e);
    }
  }

  /**
   * The PKIX check of {@code chain}, or, for a chain that passed it before, its validity dates
   * now (the signatures, names and extensions the PKIX check read are the same bytes).
   */
  private void check(X509Certificate[] chain, String authType, boolean clientChain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("no certificate chain");
    }
    var key = VerifiedChains.keyOf(chain, authType, clientChain);
    if (verified.contains(key)) {
      Date now = Date.from(clock.instant());
      for (X509Certificate c : chain) {
        if (!c.equals(caCertificate)) {
          c.checkValidity(now);
        }
      }
      return;
    }
    if (clientChain) {
      pkix.checkClientTrusted(chain, authType);
    } else {
      pkix.checkServerTrusted(chain, authType);
    }
    verified.add(key);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain, authType, false);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
