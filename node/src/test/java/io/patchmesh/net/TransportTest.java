package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollSocketChannelConfig;
import io.netty.handler.timeout.IdleStateHandler;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Ack;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.Role;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransportTest {
  @TempDir Path dir;
  MeshFixture mesh;

  @BeforeEach
  void setUp() {
    mesh = new MeshFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  private static Frame ping(long seq) {
    return Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq)).build();
  }

  private static Frame ack(long seq) {
    return Frame.newBuilder().setAck(Ack.newBuilder().setSeq(seq)).build();
  }

  @Test
  void mutualTlsLinkComesUpAndCarriesFramesBothWays() throws Exception {
    RecordingListener heardByA = new RecordingListener();
    RecordingListener heardByB = new RecordingListener();
    Transport a = mesh.tls("a", "hq", heardByA);
    Transport b = mesh.tls("b", "branch", heardByB, c -> c.roles(Set.of(Role.ROLE_SEED)));

    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    assertEquals(b.localId(), ab.peerId());
    assertEquals("branch", ab.site());
    assertEquals(Set.of(Role.ROLE_SEED), ab.roles());
    assertFalse(ab.inbound());
    await().atMost(Duration.ofSeconds(5)).until(() -> b.link(a.localId()).isPresent());
    PeerLink ba = b.link(a.localId()).orElseThrow();
    assertTrue(ba.inbound());
    assertEquals("hq", ba.site());

    assertTrue(ab.sendControl(ping(1)));
    assertEquals(ping(1), heardByB.frames.poll(5, TimeUnit.SECONDS));
    assertTrue(ba.sendControl(ack(1)));
    assertEquals(ack(1), heardByA.frames.poll(5, TimeUnit.SECONDS));
    assertTrue(ba.sendData(ping(2)));
    assertEquals(ping(2), heardByA.frames.poll(5, TimeUnit.SECONDS));
    assertEquals(List.of(ab), heardByA.ups);
    assertTrue(ab.bytesOut() > 0 && ab.bytesIn() > 0);

    ab.close("test over");
    await().atMost(Duration.ofSeconds(5)).until(() -> heardByB.downs.contains("peer said goodbye: test over"));
    assertTrue(b.links().isEmpty());
  }

  @Test
  void controlFramesSentTogetherArriveInOrder() throws Exception {
    RecordingListener heardByB = new RecordingListener();
    Transport b = mesh.tls("b", "hq", heardByB);
    Transport a = mesh.tls("a", "branch", null);
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.link(a.localId()).isPresent());
    List<Frame> batch = new java.util.ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      batch.add(ping(i));
    }
    assertTrue(ab.sendControl(batch), "one write and flush for the lot");
    assertTrue(ab.sendControl(List.of(ping(51))), "a batch of one");
    for (int i = 1; i <= 51; i++) {
      assertEquals(ping(i), heardByB.frames.poll(5, TimeUnit.SECONDS));
    }
    ab.close("test over");
    assertFalse(ab.sendControl(List.of(ping(52), ping(53))), "a closed link takes nothing");
  }

  @Test
  void outboundOnlyNodeDialsOutAndItsLinkWorksBothWays() throws Exception {
    RecordingListener heardByLaptop = new RecordingListener();
    RecordingListener heardBySeed = new RecordingListener();
    Transport seed = mesh.tls("seed", "dc", heardBySeed);
    Transport laptop = mesh.tls("laptop", "home", heardByLaptop, c -> c.outboundOnly(true));
    assertEquals(null, laptop.boundAddress());

    laptop.connect(seed.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> seed.link(laptop.localId()).isPresent());
    PeerLink fromSeed = seed.link(laptop.localId()).orElseThrow();
    assertTrue(fromSeed.addresses().isEmpty(), "an outbound-only node advertises no address");
    fromSeed.sendControl(ping(7));
    assertEquals(ping(7), heardByLaptop.frames.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void plaintextModeLinksWithIdsFromKeysInTheDataDirectory() throws Exception {
    RecordingListener heardByB = new RecordingListener();
    Transport a = mesh.plaintext("pa", "hq", null, c -> {});
    Transport b = mesh.plaintext("pb", "hq", heardByB, c -> {});
    PeerLink link = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    link.sendControl(ping(3));
    assertEquals(ping(3), heardByB.frames.poll(5, TimeUnit.SECONDS));
    assertEquals(a.localId(), io.patchmesh.net.tls.PlaintextNodeKey.loadOrCreate(dir.resolve("pa")),
        "the node id survives a restart");
  }

  @Test
  void refusesClientWithCertificateFromAnotherCa() throws Exception {
    Transport b = mesh.tls("b", "hq", null);
    MeshFixture otherMesh = new MeshFixture(dir.resolve("other"));
    NodeIdentity stranger = otherMesh.issue("stranger", "hq");
    try (RawPeer peer = new RawPeer(b.boundAddress(), stranger)) {
      // TLS 1.3: the client's handshake may report success before the server checks its certificate.
      peer.send(RawPeer.hello(stranger.nodeId(), "hq"));
      assertTrue(peer.closedWithin(5), "the server closes the connection");
    }
    assertTrue(b.links().isEmpty());
  }

  @Test
  void disconnectsHelloWhoseNodeIdDoesNotMatchItsCertificate() throws Exception {
    Transport b = mesh.tls("b", "hq", null);
    NodeIdentity mallory = mesh.issue("mallory", "hq");
    NodeIdentity victim = mesh.issue("victim", "hq");
    try (RawPeer peer = new RawPeer(b.boundAddress(), mallory)) {
      peer.send(RawPeer.hello(victim.nodeId(), "hq"));
      Frame answer = peer.next();
      assertNotNull(answer);
      assertTrue(answer.getGoodbye().getReason().contains("does not match the certificate"), answer.toString());
      assertTrue(peer.closedWithin(5));
    }
    assertTrue(b.links().isEmpty());
  }

  @Test
  void disconnectsHelloThatClaimsTheSeedRoleWithoutACertificateGrantingIt() throws Exception {
    Transport b = mesh.tls("b", "hq", null);
    NodeIdentity pretender = mesh.issue("pretender", "hq");
    try (RawPeer peer = new RawPeer(b.boundAddress(), pretender)) {
      peer.send(RawPeer.hello(pretender.nodeId(), "hq").addRoles(Role.ROLE_SEED));
      Frame answer = peer.next();
      assertNotNull(answer);
      assertTrue(answer.getGoodbye().getReason().contains("seed role"), answer.toString());
      assertTrue(peer.closedWithin(5));
    }
    assertTrue(b.links().isEmpty());
  }

  @Test
  void disconnectsHelloWhoseSiteDoesNotMatchItsCertificate() throws Exception {
    Transport b = mesh.tls("b", "hq", null);
    NodeIdentity branchNode = mesh.issue("c", "branch");
    try (RawPeer peer = new RawPeer(b.boundAddress(), branchNode)) {
      peer.send(RawPeer.hello(branchNode.nodeId(), "hq"));
      assertTrue(peer.next().getGoodbye().getReason().contains("site"));
      assertTrue(peer.closedWithin(5));
    }
  }

  @Test
  void refusesUnsupportedProtocolVersionWithGoodbye() throws Exception {
    Transport b = mesh.tls("b", "hq", null);
    NodeIdentity future = mesh.issue("future", "hq");
    try (RawPeer peer = new RawPeer(b.boundAddress(), future)) {
      peer.send(RawPeer.hello(future.nodeId(), "hq").setMinVersion(90).setMaxVersion(99));
      assertTrue(peer.next().getGoodbye().getReason().startsWith("unsupported protocol version"));
      assertTrue(peer.closedWithin(5));
    }
    assertServesOthers(b);
  }

  @Test
  void garbageBytesCloseOnlyThatConnection() throws Exception {
    RecordingListener heardByB = new RecordingListener();
    Transport b = mesh.tls("b", "hq", heardByB);
    Transport a = mesh.tls("a", "hq", null);
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);

    try (RawPeer garbage = new RawPeer(b.boundAddress(), null)) {
      garbage.sendRaw("GET / HTTP/1.1\r\nHost: patchmesh\r\n\r\n".getBytes());
      assertTrue(garbage.closedWithin(5));
    }
    assertTrue(ab.isOpen());
    ab.sendControl(ping(11));
    assertEquals(ping(11), heardByB.frames.poll(5, TimeUnit.SECONDS));
    assertServesOthers(b);
  }

  @Test
  void oversizedFrameClosesOnlyThatConnection() throws Exception {
    RecordingListener heardByB = new RecordingListener();
    Transport b = mesh.tls("b", "hq", heardByB);
    Transport a = mesh.tls("a", "hq", null);
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);

    NodeIdentity big = mesh.issue("big", "hq");
    try (RawPeer peer = new RawPeer(b.boundAddress(), big)) {
      peer.send(RawPeer.hello(big.nodeId(), "hq"));
      assertTrue(peer.next().hasHello());
      peer.sendRaw(Unpooled.buffer(4).writeInt(FrameLimits.MAX_FRAME_BYTES + 1));
      assertTrue(peer.closedWithin(5));
    }
    ab.sendControl(ping(12));
    assertEquals(ping(12), heardByB.frames.poll(5, TimeUnit.SECONDS));
    assertTrue(ab.isOpen());
  }

  @Test
  void connectionsThatNeverHandshakeAreCappedPerAddressAndTimedOut() throws Exception {
    Transport b = mesh.tls("b", "hq", null,
        c -> c.handshakeTimeout(Duration.ofMillis(1500)).maxPendingHandshakes(256, 4));
    List<java.net.Socket> sockets = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 10; i++) {
        java.net.Socket s = new java.net.Socket();
        s.connect(b.boundAddress(), 2000);
        s.setSoTimeout(5000);
        sockets.add(s);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> b.handshakesRefused() == 6 && b.pendingHandshakes() == 4);
      // A slot held by a silent socket is freed by the handshake timeout: every socket ends closed by b.
      for (java.net.Socket s : sockets) {
        assertEquals(-1, s.getInputStream().read(), "closed by the listener");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> b.pendingHandshakes() == 0);
      assertEquals(4, b.inboundHandshakeFailures());
    } finally {
      for (java.net.Socket s : sockets) {
        s.close();
      }
    }
    Transport a = mesh.tls("a", "hq", null);
    assertTrue(a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS).isOpen(), "honest dials work again");
  }

  @Test
  void aQuietLinkToALivePeerOutlivesItsIdleTimeout() throws Exception {
    RecordingListener heardByA = new RecordingListener();
    RecordingListener heardByB = new RecordingListener();
    // a connection that is no link within the idle timeout is closed, so 2 s (a cold TLS handshake
    // on a loaded machine must fit; 600 ms did not, once at load 35). b keeps alive with Keepalive
    // frames, as nodes did before Hello.keepalive_by_kernel: the link between them carries them.
    Transport a = mesh.tls("a", "hq", heardByA, c -> c.idleTimeout(Duration.ofMillis(2000)));
    Transport b = mesh.tls("b", "hq", heardByB, c -> c.idleTimeout(Duration.ofMillis(2000)).keepaliveFrames(true));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.link(a.localId()).map(PeerLink::isUp).orElse(false));
    long inBefore = ab.bytesIn();
    long outBefore = ab.bytesOut();
    // three idle timeouts without a frame from either node: the transports' keepalives hold the link
    await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8))
        .until(() -> ab.isOpen() && b.link(a.localId()).map(PeerLink::isOpen).orElse(false));
    assertTrue(heardByA.downs.isEmpty() && heardByB.downs.isEmpty(), heardByA.downs + " " + heardByB.downs);
    assertTrue(heardByA.frames.isEmpty() && heardByB.frames.isEmpty(), "keepalives never reach the node");
    assertTrue(ab.bytesIn() > inBefore && ab.bytesOut() > outBefore, "Keepalives went both ways");
  }

  @Test
  void anIdleLinkBetweenNodesThatKeepAliveByTheKernelCarriesNothingAndStaysUp() throws Exception {
    RecordingListener heardByA = new RecordingListener();
    Transport a = mesh.tls("a", "hq", heardByA, c -> c.idleTimeout(Duration.ofMillis(3000)));
    Transport b = mesh.tls("b", "hq", null, c -> c.idleTimeout(Duration.ofMillis(3000)));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> b.link(a.localId()).map(PeerLink::isUp).orElse(false));
    PeerLink ba = b.link(a.localId()).orElseThrow();
    for (PeerLink l : List.of(ab, ba)) {
      assertTrue(l.peerKeepsAliveByKernel(), "both said keepalive_by_kernel in their Hellos");
      for (Channel ch : List.of(l.control(), l.data())) {
        assertNull(ch.pipeline().get(IdleStateHandler.class), "no timer per connection");
        EpollSocketChannelConfig socket = ((EpollSocketChannel) ch).config();
        assertTrue(socket.isKeepAlive(), "SO_KEEPALIVE");
        assertEquals(1, socket.getTcpKeepIdle(), "first probe after a third of the idle timeout");
      }
    }
    long in = ab.bytesIn() + ba.bytesIn();
    long out = ab.bytesOut() + ba.bytesOut();
    // more than two idle timeouts (six sweeps at each end): not a byte, and still up
    await().during(Duration.ofSeconds(7)).atMost(Duration.ofSeconds(9))
        .until(() -> ab.isOpen() && ba.isOpen() && ab.bytesIn() + ba.bytesIn() == in && ab.bytesOut() + ba.bytesOut() == out);
    assertTrue(heardByA.downs.isEmpty(), heardByA.downs.toString());
  }

  @Test
  void dataConnectionStalledMidFrameClosesTheLink() throws Exception {
    // b's idle sweep also closes a connection that is no link within the idle timeout, so that must
    // outlast a cold TLS handshake under load: 4 s, not 2 s
    Transport b = mesh.tls("b", "hq", null, c -> c.idleTimeout(Duration.ofMillis(4000)));
    Transport a = mesh.tls("a", "hq", null);
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    // half a frame on the data connection, while the control connection stays busy
    ab.data().writeAndFlush(Unpooled.buffer().writeInt(1000).writeZero(100));
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      ab.sendControl(ping(1));
      return !ab.isOpen();
    });
    assertTrue(ab.closeFuture().get(1, TimeUnit.SECONDS).contains("stalled mid-frame"), ab.closeFuture().get());
  }

  @Test
  void maintainConnectsOnceThePortStartsListening() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Transport a = mesh.tls("a", "hq", null);
    InetSocketAddress later = new InetSocketAddress("127.0.0.1", port);
    a.maintain(later);
    // while nothing listens, the dial attempts fail and no link appears
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> a.links().isEmpty());

    Transport b = mesh.tls("b", "hq", null, c -> c.listen("127.0.0.1", port));
    await().atMost(Duration.ofSeconds(10)).until(() -> a.link(b.localId()).isPresent()
        && b.link(a.localId()).isPresent());

    // A lost link is redialled too.
    b.link(a.localId()).orElseThrow().close("bounce");
    await().atMost(Duration.ofSeconds(10)).until(() -> a.link(b.localId()).map(l -> !l.inbound()).orElse(false)
        && b.link(a.localId()).isPresent());
  }

  @Test
  void simultaneousDialYieldsOneLinkDialledByTheLowerId() throws Exception {
    for (int round = 0; round < 10; round++) {
      RecordingListener heardByB = new RecordingListener();
      Transport a = mesh.tls("sa" + round, "hq", null);
      Transport b = mesh.tls("sb" + round, "hq", heardByB);
      var ab = a.connect(b.boundAddress());
      var ba = b.connect(a.boundAddress());
      PeerLink fromA = ab.get(10, TimeUnit.SECONDS);
      PeerLink fromB = ba.get(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(5)).until(() -> a.links().size() == 1 && b.links().size() == 1
          && a.links().iterator().next().isOpen() && b.links().iterator().next().isOpen());
      PeerLink survivorAtA = a.link(b.localId()).orElseThrow();
      PeerLink survivorAtB = b.link(a.localId()).orElseThrow();
      assertTrue(survivorAtA.inbound() != survivorAtB.inbound(), "both ends keep the same connection");
      boolean aIsLower = a.localId().compareTo(b.localId()) < 0;
      assertEquals(aIsLower, !survivorAtA.inbound(), "the lower id's dial survives");
      assertTrue(fromA.peerId().equals(b.localId()) && fromB.peerId().equals(a.localId()));
      survivorAtA.sendControl(ping(round));
      assertEquals(ping(round), heardByB.frames.poll(5, TimeUnit.SECONDS));
    }
  }

  @Test
  void siteMustMatchOwnCertificate() {
    NodeIdentity identity = mesh.issue("x", "hq");
    org.junit.jupiter.api.Assertions.assertThrows(io.patchmesh.errors.UserInputException.class,
        () -> new Transport(MeshFixture.config("branch").build(), TransportSecurity.mutualTls(identity)));
  }

  /** The node still accepts a well-behaved new peer. */
  private void assertServesOthers(Transport b) throws Exception {
    Transport fresh = mesh.tls("fresh" + System.nanoTime(), "hq", null);
    PeerLink link = fresh.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    assertTrue(link.isOpen());
  }
}
