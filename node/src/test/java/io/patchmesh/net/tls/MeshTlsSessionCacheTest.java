package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.netty.channel.Channel;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BoringSSL mesh contexts keep no TLS sessions (docs/BENCHMARKS.md 12.47): after handshakes with a
 * peer by host and port (as the transport dials) and data read after them (the server's session
 * tickets arrive after its handshake), neither side's session context holds one, and each
 * handshake presents and checks the client's certificate.
 */
class MeshTlsSessionCacheTest {
  @TempDir Path dir;
  private final MeshCa ca = new MeshCa();
  private TlsLoopback loop;

  @BeforeEach
  void setUp() {
    ca.init(dir.resolve("ca"));
    loop = new TlsLoopback();
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    loop.close();
  }

  @Test
  void boringSslContextsKeepNoSessions() throws Exception {
    NodeIdentity a = identity("a");
    NodeIdentity b = identity("b");
    MeshTls serverTls = new MeshTls(a, SslProvider.OPENSSL);
    MeshTls clientTls = new MeshTls(b, SslProvider.OPENSSL);
    Channel listener = null;
    try {
      for (int i = 0; i < 2; i++) {
        CompletableFuture<SSLSession> atServer = new CompletableFuture<>();
        listener = loop.listen(serverTls, atServer, true);
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        CompletableFuture<Void> read = new CompletableFuture<>();
        Channel client = loop.connect(clientTls, address, read);
        client.pipeline().get(SslHandler.class).handshakeFuture().sync();
        SSLSession session = atServer.get(20, TimeUnit.SECONDS);
        read.get(20, TimeUnit.SECONDS); // the server's session tickets came before its byte: the client has read them
        assertEquals(b.nodeId(), PeerCertificates.nodeIdOf(MeshTls.certificateOf(session).orElseThrow()));
        client.close().sync();
        listener.close().sync();
        listener = null;
      }
      assertNoSessions(clientTls.client());
      assertNoSessions(serverTls.server());
    } finally {
      if (listener != null) {
        listener.close().sync();
      }
    }
  }

  private static void assertNoSessions(SslContext context) {
    OpenSslSessionContext sessions = assertInstanceOf(OpenSslSessionContext.class, context.sessionContext());
    assertEquals(0, Collections.list(sessions.getIds()).size(), "sessions kept");
    assertFalse(sessions.isSessionCacheEnabled());
  }

  private NodeIdentity identity(String name) {
    ca.issue(dir.resolve("ca"), name, "s1", dir.resolve(name), false, 30, MeshCa.KeyType.P256);
    return NodeIdentity.load(dir.resolve(name));
  }
}
