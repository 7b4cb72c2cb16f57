package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshCaTest {
  @TempDir Path dir;

  @Test
  void issuedNodeDirectoryLoadsWithIdAndSite() throws Exception {
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    NodeId id = ca.issue(dir.resolve("ca"), "agent-1", "berlin", dir.resolve("n1"));

    NodeIdentity identity = NodeIdentity.load(dir.resolve("n1"));
    assertEquals(id, identity.nodeId());
    assertEquals("berlin", identity.site());
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(dir.resolve("ca/ca.key")));
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(dir.resolve("n1/node.key")));
    assertTrue(identity.certificate().getSubjectX500Principal().getName().contains("OU=berlin"));
  }

  @Test
  void refusesToOverwriteAnExistingCa() {
    MeshCa ca = new MeshCa();
    ca.init(dir);
    assertThrows(UserInputException.class, () -> ca.init(dir));
  }

  @Test
  void rejectsUnusableSiteName() {
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    assertThrows(UserInputException.class, () -> ca.issue(dir.resolve("ca"), "n", "bad site/1", dir.resolve("n")));
  }

  @Test
  void missingOrGarbledFilesGiveOneLineErrors() throws Exception {
    UserInputException missing = assertThrows(UserInputException.class, () -> NodeIdentity.load(dir));
    assertTrue(missing.getMessage().contains("node.key"), missing.getMessage());
    assertTrue(!missing.getMessage().contains("\n"));

    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "n", "s", dir.resolve("n"));
    Files.writeString(dir.resolve("n/node.crt"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
    UserInputException garbled = assertThrows(UserInputException.class, () -> NodeIdentity.load(dir.resolve("n")));
    assertTrue(garbled.getMessage().contains("node.crt"), garbled.getMessage());
    assertTrue(!garbled.getMessage().contains("\n"), garbled.getMessage());
  }

  @Test
  void rejectsKeyOfAnotherNode() throws Exception {
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "a", "s", dir.resolve("a"));
    ca.issue(dir.resolve("ca"), "b", "s", dir.resolve("b"));
    Files.delete(dir.resolve("a/node.key"));
    Files.copy(dir.resolve("b/node.key"), dir.resolve("a/node.key"));
    UserInputException e = assertThrows(UserInputException.class, () -> NodeIdentity.load(dir.resolve("a")));
    assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
  }

  /** Settles Ed25519 vs P-256: the JDK TLS 1.3 provider under Netty must handshake with Ed25519 certificates. */
  @Test
  void ed25519CertificatesHandshakeMutualTls13UnderNetty() throws Exception {
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "server", "s1", dir.resolve("server"));
    NodeId clientId = ca.issue(dir.resolve("ca"), "client", "s2", dir.resolve("client"));
    MeshTls serverTls = new MeshTls(NodeIdentity.load(dir.resolve("server")));
    MeshTls clientTls = new MeshTls(NodeIdentity.load(dir.resolve("client")));

    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    CompletableFuture<SSLSession> serverSession = new CompletableFuture<>();
    try {
      Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              SslHandler ssl = serverTls.server().newHandler(ch.alloc());
              ch.pipeline().addLast(ssl);
              ssl.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                  serverSession.complete(ssl.engine().getSession());
                } else {
                  serverSession.completeExceptionally(f.cause());
                }
              });
            }
          }).bind("127.0.0.1", 0).sync().channel();
      InetSocketAddress address = (InetSocketAddress) server.localAddress();
      Channel client = new Bootstrap().group(group).channel(NioSocketChannel.class)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(clientTls.client().newHandler(ch.alloc(), "127.0.0.1", address.getPort()));
            }
          }).connect(address).sync().channel();
      client.pipeline().get(SslHandler.class).handshakeFuture().sync();
      SSLSession session = serverSession.get(10, TimeUnit.SECONDS);
      assertEquals("TLSv1.3", session.getProtocol());
      assertEquals(clientId, PeerCertificates.nodeIdOf(MeshTls.certificateOf(session).orElseThrow()));
      assertEquals("s2", PeerCertificates.siteOf(MeshTls.certificateOf(session).orElseThrow()).orElseThrow());
      client.close().sync();
      server.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
