package io.patchmesh.net.tls;

import io.netty.handler.ssl.ClientAuth;
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

  private final SslContext server;
  private final SslContext client;

  public MeshTls(NodeIdentity identity) {
    try {
      this.server = SslContextBuilder.forServer(identity.privateKey(), identity.certificate())
          .sslProvider(SslProvider.JDK)
          .protocols(TLS_13)
          .trustManager(identity.caCertificate())
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      this.client = SslContextBuilder.forClient()
          .sslProvider(SslProvider.JDK)
          .protocols(TLS_13)
          .keyManager(identity.privateKey(), identity.certificate())
          .trustManager(identity.caCertificate())
          .endpointIdentificationAlgorithm(null)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build TLS contexts for " + identity, e);
    }
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
