package io.patchmesh.net.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mesh TLS on BoringSSL (netty-tcnative) with P-256 node certificates under the Ed25519 mesh CA,
 * against the JDK provider and against Ed25519 nodes of earlier versions (the rotation window).
 */
class MeshTlsProviderTest {
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
  void boringSslLoadsAndIsChosenForP256NodeKeys() {
    assertTrue(OpenSsl.isAvailable(), () -> "netty-tcnative does not load: " + OpenSsl.unavailabilityCause());
    ca.issue(dir.resolve("ca"), "n", "s1", dir.resolve("n"));
    NodeIdentity identity = NodeIdentity.load(dir.resolve("n"));
    assertEquals("EC", identity.privateKey().getAlgorithm());
    assertEquals(SslProvider.OPENSSL, new MeshTls(identity).provider());
  }

  @Test
  void ed25519NodeKeysKeepTheJdkProvider() {
    ca.issue(dir.resolve("ca"), "n", "s1", dir.resolve("n"), false, 30, MeshCa.KeyType.ED25519);
    assertEquals(SslProvider.JDK, new MeshTls(NodeIdentity.load(dir.resolve("n"))).provider());
  }

  @Test
  void providerPropertyIsCheckedWithOneLineErrors() {
    ca.issue(dir.resolve("ca"), "p", "s1", dir.resolve("p"));
    ca.issue(dir.resolve("ca"), "e", "s1", dir.resolve("e"), false, 30, MeshCa.KeyType.ED25519);
    var p256 = NodeIdentity.load(dir.resolve("p")).privateKey();
    var ed = NodeIdentity.load(dir.resolve("e")).privateKey();
    assertEquals(SslProvider.JDK, TlsProviderChoice.choose(p256, "jdk", true));
    assertEquals(SslProvider.JDK, TlsProviderChoice.choose(p256, "auto", false));
    assertEquals(SslProvider.OPENSSL, TlsProviderChoice.choose(p256, "OpenSSL", true));
    UserInputException edForced = assertThrows(UserInputException.class, () -> TlsProviderChoice.choose(ed, "openssl", true));
    assertTrue(edForced.getMessage().contains("P-256"), edForced.getMessage());
    assertThrows(UserInputException.class, () -> TlsProviderChoice.choose(p256, "openssl", false));
    UserInputException bad = assertThrows(UserInputException.class, () -> TlsProviderChoice.choose(p256, "gnutls", true));
    assertFalse(bad.getMessage().contains("\n"));
  }

  @Test
  void keyManagerOffersTheKeyOnlyForItsOwnType() {
    ca.issue(dir.resolve("ca"), "p", "s1", dir.resolve("p"));
    NodeIdentity p = NodeIdentity.load(dir.resolve("p"));
    MeshKeyManager keys = new MeshKeyManager(p.privateKey(), p.certificate());
    assertTrue(keys.serves("EC"));
    assertTrue(keys.serves("EC_EC"));
    assertFalse(keys.serves("RSA"));
    assertFalse(keys.serves("EdDSA"));
    assertEquals(MeshKeyManager.ALIAS, keys.chooseEngineClientAlias(new String[] {"RSA", "EC"}, null, null));
    assertEquals(null, keys.chooseEngineServerAlias("RSA", null, null));
  }

  @Test
  void p256NodesHandshakeOnBoringSslBothWays() throws Exception {
    handshakes(identity("a", "s1", MeshCa.KeyType.P256), SslProvider.OPENSSL,
        identity("b", "s2", MeshCa.KeyType.P256), SslProvider.OPENSSL);
  }

  @Test
  void boringSslAndJdkNodesHandshakeWithEachOther() throws Exception {
    handshakes(identity("a", "s1", MeshCa.KeyType.P256), SslProvider.OPENSSL,
        identity("b", "s2", MeshCa.KeyType.P256), SslProvider.JDK);
    handshakes(identity("c", "s1", MeshCa.KeyType.P256), SslProvider.JDK,
        identity("d", "s2", MeshCa.KeyType.P256), SslProvider.OPENSSL);
  }

  /**
   * The rotation window (OPERATIONS.md "Node key type"): nodes still on Ed25519 certificates and
   * re-issued P-256 ones handshake on the JDK provider, which takes both key types.
   */
  @Test
  void rotationWindowMixesKeyTypesOnTheJdkProvider() throws Exception {
    handshakes(identity("old", "s1", MeshCa.KeyType.ED25519), SslProvider.JDK,
        identity("new", "s2", MeshCa.KeyType.P256), SslProvider.JDK);
    handshakes(identity("new2", "s1", MeshCa.KeyType.P256), SslProvider.JDK,
        identity("old2", "s2", MeshCa.KeyType.ED25519), SslProvider.JDK);
  }

  /** Why the window needs the JDK provider: BoringSSL refuses an Ed25519 node's handshake signature. */
  @Test
  void boringSslNodeCannotHandshakeWithAnEd25519Node() throws Exception {
    MeshTls serverTls = new MeshTls(identity("old", "s1", MeshCa.KeyType.ED25519), SslProvider.JDK);
    MeshTls clientTls = new MeshTls(identity("new", "s2", MeshCa.KeyType.P256), SslProvider.OPENSSL);
    CompletableFuture<SSLSession> accepted = new CompletableFuture<>();
    Channel listener = loop.listen(serverTls, accepted, false);
    try {
      Channel client = loop.connect(clientTls, (InetSocketAddress) listener.localAddress(), null);
      await().atMost(Duration.ofSeconds(20)).until(() -> !client.isActive());
      assertFalse(client.pipeline().get(SslHandler.class) != null
          && client.pipeline().get(SslHandler.class).handshakeFuture().isSuccess());
    } finally {
      listener.close().sync();
    }
  }

  @Test
  void boringSslServerRejectsAClientOfAnotherCa() throws Exception {
    MeshCa other = new MeshCa();
    other.init(dir.resolve("other-ca"));
    other.issue(dir.resolve("other-ca"), "rogue", "s1", dir.resolve("rogue"));
    NodeIdentity server = identity("srv", "s1", MeshCa.KeyType.P256);
    MeshTls serverTls = new MeshTls(server, SslProvider.OPENSSL);
    MeshTls rogueTls = new MeshTls(NodeIdentity.load(dir.resolve("rogue")), SslProvider.OPENSSL);
    CompletableFuture<SSLSession> accepted = new CompletableFuture<>();
    Channel listener = loop.listen(serverTls, accepted, false);
    try {
      Channel client = loop.connect(rogueTls, (InetSocketAddress) listener.localAddress(), null);
      await().atMost(Duration.ofSeconds(20)).until(() -> !client.isActive());
      assertFalse(accepted.isDone() && !accepted.isCompletedExceptionally(), "the server accepted a foreign CA's node");
    } finally {
      listener.close().sync();
    }
  }

  private NodeIdentity identity(String name, String site, MeshCa.KeyType type) {
    ca.issue(dir.resolve("ca"), name, site, dir.resolve(name), false, 30, type);
    return NodeIdentity.load(dir.resolve(name));
  }

  /** Server {@code a} on {@code aProvider}, client {@code b} on {@code bProvider}: both see the other's id and site. */
  private void handshakes(NodeIdentity a, SslProvider aProvider, NodeIdentity b, SslProvider bProvider) throws Exception {
    MeshTls serverTls = new MeshTls(a, aProvider);
    MeshTls clientTls = new MeshTls(b, bProvider);
    CompletableFuture<SSLSession> serverSession = new CompletableFuture<>();
    Channel listener = loop.listen(serverTls, serverSession, false);
    try {
      Channel client = loop.connect(clientTls, (InetSocketAddress) listener.localAddress(), null);
      SslHandler ssl = client.pipeline().get(SslHandler.class);
      ssl.handshakeFuture().sync();
      SSLSession atServer = serverSession.get(20, TimeUnit.SECONDS);
      SSLSession atClient = ssl.engine().getSession();
      assertEquals("TLSv1.3", atServer.getProtocol());
      assertEquals("TLSv1.3", atClient.getProtocol());
      assertEquals(b.nodeId(), PeerCertificates.nodeIdOf(MeshTls.certificateOf(atServer).orElseThrow()));
      assertEquals(b.site(), PeerCertificates.siteOf(MeshTls.certificateOf(atServer).orElseThrow()).orElseThrow());
      NodeId serverId = PeerCertificates.nodeIdOf(MeshTls.certificateOf(atClient).orElseThrow());
      assertEquals(a.nodeId(), serverId);
      client.close().sync();
    } finally {
      listener.close().sync();
    }
  }
}
