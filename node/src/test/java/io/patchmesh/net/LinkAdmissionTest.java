package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import io.patchmesh.proto.Ping;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LinkAdmission} over real mutual TLS, with a dialler driven by hand ({@link Connections}, as
 * the transport dials) so that connections arrive in an order a real dialler only produces on a
 * starved machine.
 */
class LinkAdmissionTest {
  @TempDir Path tmp;

  /**
   * The acceptor answers a control connection's Hello just before it admits the link, so the
   * dialler's data connection can come first (a24dfd8: it was closed, and the link lost). Here it
   * comes first every time: the data connection is opened and handshaken before the control
   * connection is dialled, and the acceptor runs on one event loop, which sends its Hello and
   * handles ours in the same task, so the data connection has been looked at (and found no link)
   * before the control connection's first byte is read. It must wait, not be closed, and join the
   * link once the control connection's link is admitted; a frame it carried meanwhile is delivered.
   */
  @Test
  void aDataConnectionThatComesBeforeItsLinkWaitsForItAndJoinsIt() throws Exception {
    try (MeshFixture mesh = new MeshFixture(tmp)) {
      RecordingListener heard = new RecordingListener();
      Transport acceptor = mesh.tls("acceptor", "dc", heard);
      TransportConfig config = MeshFixture.config("home").build();
      TransportSecurity security = TransportSecurity.mutualTls(mesh.issue("dialler", "home"));
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
      mesh.closeLater(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS));
      Connections dialler = new Connections(config, security, security.localId(), List::of, () -> NioSocketChannel.class,
          new IdleSweep(config.idleTimeout(), false));

      Connections.Established data = dialler.open(group.next(), acceptor.boundAddress(), Hello.Purpose.PURPOSE_DATA,
          Optional.of(acceptor.localId())).get(20, TimeUnit.SECONDS);
      Frame early = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(7)).build();
      data.channel().writeAndFlush(early).awaitUninterruptibly();
      Connections.Established control = dialler.open(group.next(), acceptor.boundAddress(), Hello.Purpose.PURPOSE_CONTROL,
          Optional.of(acceptor.localId())).get(20, TimeUnit.SECONDS);

      await().atMost(Duration.ofSeconds(20))
          .until(() -> acceptor.link(security.localId()).isPresent() || !data.channel().isActive());
      assertTrue(data.channel().isActive(), "the data connection that came first was closed");
      assertTrue(control.channel().isActive());
      PeerLink link = acceptor.link(security.localId()).orElseThrow();
      assertTrue(link.inbound());
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.ups.equals(List.of(link)));
      assertEquals(early, heard.frames.poll(10, TimeUnit.SECONDS), "the frame sent before the link was up");
    }
  }
}
