package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A link across a path that goes silent (a cut WAN link: packets dropped, no reset) is closed by the
 * kernel once its data stays unacknowledged for {@link PathLiveness#unackedTimeout()}, and a
 * maintained address is dialled again as soon as the path carries a dial: before, such a link stayed
 * "open" and idle until TCP's backed-off retransmission timer fired, up to a minute after the heal.
 */
class PathLivenessTest {
  /** 1 s unacknowledged, 500 ms to connect, 200 ms between unanswered dials. */
  static final PathLiveness FAST = new PathLiveness(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(200));

  @TempDir Path dir;
  MeshFixture mesh;

  @BeforeEach
  void setUp() {
    mesh = new MeshFixture(dir);
    assertTrue(Epoll.isAvailable(), "these tests need Netty's epoll transport (Linux)");
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  @Test
  void aLinksControlConnectionCarriesTheUnackedTimeoutAtBothEnds() throws Exception {
    Transport b = mesh.tls("b", "dc", null, c -> c.pathLiveness(FAST));
    Transport a = mesh.tls("a", "branch", null, c -> c.pathLiveness(FAST));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.link(a.localId()).isPresent());
    PeerLink ba = b.link(a.localId()).orElseThrow();
    // the data connections drop it once linked (StarvedReceiverTest): their link's control connection judges the peer
    for (Channel ch : List.of(ab.control(), ba.control())) {
      assertEquals(1000, ((EpollSocketChannel) ch).config().getTcpUserTimeout(), ch.toString());
    }
  }

  /**
   * Linux closes a user-timed-out connection at the first keepalive timer that finds a probe
   * unanswered and nothing heard for the user timeout: with the first probe at a third of the idle
   * timeout (30 s) past the 20 s user timeout, one lost probe closed a live link on a lossy path. Two
   * probes now go out within the user timeout; the data connection keeps a third of the idle timeout.
   */
  @Test
  void aControlConnectionSendsTwoKeepaliveProbesWithinTheUserTimeout() throws Exception {
    Duration idle = Duration.ofSeconds(90);
    Duration unacked = PathLiveness.defaults().unackedTimeout();
    int first = PathLiveness.controlKeepaliveIdleSeconds(idle, unacked);
    assertEquals(10, first);
    assertTrue(first + 2 * PathLiveness.KEEPALIVE_INTERVAL_SECONDS <= unacked.toSeconds(), "two probes before the user timeout");
    assertEquals(1, PathLiveness.controlKeepaliveIdleSeconds(Duration.ofSeconds(3), unacked), "never after a third of the idle timeout");
    assertEquals(1, PathLiveness.controlKeepaliveIdleSeconds(idle, Duration.ofSeconds(1)), "a short user timeout: 1 s");
    assertEquals(30, PathLiveness.controlKeepaliveIdleSeconds(idle, Duration.ZERO), "no user timeout: as every connection");

    Transport b = mesh.tls("b", "dc", null, c -> c.idleTimeout(idle));
    Transport a = mesh.tls("a", "branch", null, c -> c.idleTimeout(idle));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.link(a.localId()).map(PeerLink::isUp).orElse(false));
    PeerLink ba = b.link(a.localId()).orElseThrow();
    for (PeerLink l : List.of(ab, ba)) {
      EpollSocketChannel control = (EpollSocketChannel) l.control();
      assertEquals(20_000, control.config().getTcpUserTimeout(), control.toString());
      assertEquals(10, control.config().getTcpKeepIdle(), control.toString());
      assertEquals(PathLiveness.KEEPALIVE_INTERVAL_SECONDS, control.config().getTcpKeepIntvl(), control.toString());
      EpollSocketChannel data = (EpollSocketChannel) l.data();
      assertEquals(0, data.config().getTcpUserTimeout(), data.toString());
      assertEquals(30, data.config().getTcpKeepIdle(), data.toString());
    }
  }

  @Test
  void aLinkAcrossASilentPathClosesAndIsRedialledOnceThePathHeals() throws Exception {
    Transport b = mesh.tls("b", "dc", null, c -> c.pathLiveness(FAST));
    BlackholeProxy proxy = new BlackholeProxy(b.boundAddress());
    mesh.closeLater(proxy);
    RecordingListener heardByA = new RecordingListener();
    Transport a = mesh.tls("a", "branch", heardByA, c -> c.pathLiveness(FAST).handshakeTimeout(Duration.ofSeconds(2)));
    a.maintain(proxy.address());
    await().atMost(Duration.ofSeconds(20)).until(() -> a.link(b.localId()).isPresent());
    PeerLink first = a.link(b.localId()).orElseThrow();

    proxy.blackhole();
    // What a fetch or a Keepalive would do: send. Nothing is read or acknowledged past the proxy's
    // small buffer, and the link is closed by the kernel, not by anything above it.
    Frame piece = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[64 * 1024])))
        .build();
    for (int i = 0; i < 16; i++) {
      first.sendData(piece);
    }
    // and the control traffic of those seconds (requests, SWIM): across a real cut any of it goes
    // unacknowledged; past this proxy, what its small buffer cannot take. The link is judged on its
    // control connection, and closing it closes the data connection too.
    Frame controlFrame = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[4 * 1024])))
        .build();
    for (int i = 0; i < 16; i++) {
      first.sendControl(controlFrame);
    }
    String reason = first.closeFuture().get(30, TimeUnit.SECONDS);
    assertFalse(reason.contains("goodbye"), reason);
    assertTrue(a.link(b.localId()).filter(l -> l == first).isEmpty());

    proxy.heal();
    await().atMost(Duration.ofSeconds(30)).until(() -> a.link(b.localId()).filter(l -> l != first).isPresent());
    PeerLink second = a.link(b.localId()).orElseThrow();
    assertTrue(second.sendControl(Frame.newBuilder().setKeepalive(io.patchmesh.proto.Keepalive.getDefaultInstance())
        .build()));
  }

  @Test
  void aDialNobodyAnswersIsUnansweredAndARefusedOneIsNot() throws Exception {
    Transport a = mesh.tls("a", "branch", null, c -> c.pathLiveness(FAST));
    // A listener that never accepts: once its queue is full the kernel drops further SYNs unanswered,
    // as a cut link does.
    ServerSocket deaf = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    mesh.closeLater(deaf);
    InetSocketAddress deafAddress = new InetSocketAddress("127.0.0.1", deaf.getLocalPort());
    List<Socket> queued = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Socket s = new Socket();
      mesh.closeLater(s);
      queued.add(s);
      try {
        s.connect(deafAddress, 300);
      } catch (SocketTimeoutException full) {
        break;
      }
    }
    ExecutionException silent = assertThrowsExecution(() -> a.connect(deafAddress).get(10, TimeUnit.SECONDS));
    LinkFailure noAnswer = assertInstanceOf(LinkFailure.class, silent.getCause());
    assertTrue(noAnswer.unanswered(), noAnswer.getMessage());

    int closedPort;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = probe.getLocalPort();
    }
    ExecutionException refused =
        assertThrowsExecution(() -> a.connect(new InetSocketAddress("127.0.0.1", closedPort)).get(10, TimeUnit.SECONDS));
    LinkFailure answered = assertInstanceOf(LinkFailure.class, refused.getCause());
    assertFalse(answered.unanswered(), answered.getMessage());
    assertFalse(answered.connected(), answered.getMessage());
    assertFalse(noAnswer.connected(), noAnswer.getMessage());
  }

  /** A process that accepts the connect but never answers its handshake (starting, starved) is told apart from no process. */
  @Test
  void aDialWhoseHandshakeGoesUnansweredFailedAfterConnecting() throws Exception {
    Transport a = mesh.tls("a", "branch", null, c -> c.pathLiveness(FAST).handshakeTimeout(Duration.ofSeconds(1)));
    // the kernel completes the TCP handshake for a listener's backlog; nothing ever reads or writes
    ServerSocket mute = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    mesh.closeLater(mute);
    ExecutionException silent = assertThrowsExecution(
        () -> a.connect(new InetSocketAddress("127.0.0.1", mute.getLocalPort())).get(20, TimeUnit.SECONDS));
    LinkFailure failure = assertInstanceOf(LinkFailure.class, silent.getCause());
    assertTrue(failure.connected(), failure.getMessage());
    assertFalse(failure.unanswered(), failure.getMessage());
  }

  private interface Dial {
    void run() throws Exception;
  }

  private static ExecutionException assertThrowsExecution(Dial dial) throws Exception {
    try {
      dial.run();
    } catch (ExecutionException e) {
      return e;
    }
    throw new AssertionError("the dial succeeded");
  }
}
