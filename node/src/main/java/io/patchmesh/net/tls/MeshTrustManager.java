package io.patchmesh.net.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
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
 */
final class MeshTrustManager extends X509ExtendedTrustManager {
  private final X509TrustManager pkix;

  MeshTrustManager(X509Certificate caCertificate) {
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

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    pkix.checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
