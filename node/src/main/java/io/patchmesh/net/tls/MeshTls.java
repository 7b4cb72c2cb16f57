package io.patchmesh.net.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * TLS 1.3 contexts for the mesh: both sides present a node certificate and trust
 * only the mesh CA. Peers are identified by key, not by DNS name, so clients
 * skip hostname verification and the transport checks the peer's Hello against
 * its certificate after the handshake ({@link #certificateOf}).
 */
public final class MeshTls {
  private static final String TLS_13 = "TLSv1.3";

  private final SslProvider provider;
  private final SslContext server;
  private final SslContext client;

  public MeshTls(NodeIdentity identity) {
    this(identity, TlsProviderChoice.choose(identity.privateKey()));
  }

  /**
   * Contexts on {@code provider} (see {@link TlsProviderChoice}). The key goes to the provider
   * through {@link MeshKeyManager}, not through a key store (no PBKDF2 at start); trust, client
   * authentication and TLS 1.3 are the same on both providers.
   */
  public MeshTls(NodeIdentity identity, SslProvider provider) {
    this.provider = provider;
    MeshKeyManager keys = new MeshKeyManager(identity.privateKey(), identity.certificate());
    MeshTrustManager trust = new MeshTrustManager(identity.caCertificate());
    if (provider == SslProvider.OPENSSL) {
      NettyTrustWrapper.init(); // before Netty's first BoringSSL context: no JSSE context built for it
    }
    try {
      this.server = SslContextBuilder.forServer(keys)
          .sslProvider(provider)
          .protocols(TLS_13)
          .trustManager(trust)
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      this.client = SslContextBuilder.forClient()
          .sslProvider(provider)
          .protocols(TLS_13)
          .keyManager(keys)
          .trustManager(trust)
          .endpointIdentificationAlgorithm(null)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build TLS contexts for " + identity, e);
    }
    if (provider == SslProvider.OPENSSL) {
      noSessionCache(server);
      noSessionCache(client);
    }
  }

  /**
   * No TLS session cache on a BoringSSL context: every handshake is a full one, whose certificate
   * the trust manager checks. Netty's cache kept each session a handshake made (for a client, by
   * the peer's host and port) for the process's life once the mesh went quiet (its expired sessions
   * are dropped only when a new one is added): 2-4 native sessions with their peers' certificates
   * per member, which links that stay up never resume (docs/BENCHMARKS.md 12.47).
   */
  private static void noSessionCache(SslContext context) {
    if (context.sessionContext() instanceof OpenSslSessionContext sessions) {
      sessions.setSessionCacheEnabled(false);
    }
  }

  /** The TLS implementation these contexts run on. */
  public SslProvider provider() {
    return provider;
  }

  public SslContext server() {
    return server;
  }

  public SslContext client() {
    return client;
  }

  /** The peer's leaf certificate of an established session, if it presented one. */
  public static Optional<X509Certificate> certificateOf(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? Optional.of(leaf) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }
}
