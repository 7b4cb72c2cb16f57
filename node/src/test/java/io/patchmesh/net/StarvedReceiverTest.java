package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollSocketChannel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer that stops reading (its machine starved of CPU) is not a dead peer: Linux counts a zero
 * window against {@code TCP_USER_TIMEOUT}, and before, a receiver that did not read for the user
 * timeout lost its links (BENCHMARKS 12.29). Now a link's data connection carries no user timeout
 * (its control connection judges the peer) and its control connection a receive buffer that holds
 * what a starved peer is sent meanwhile. A silent path still closes the link ({@link PathLivenessTest}).
 */
class StarvedReceiverTest {
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
  void theDataConnectionDropsTheUserTimeoutAndTheControlConnectionKeepsIt() throws Exception {
    Transport b = mesh.tls("b", "dc", null, c -> c.pathLiveness(PathLivenessTest.FAST));
    Transport a = mesh.tls("a", "branch", null, c -> c.pathLiveness(PathLivenessTest.FAST));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.link(a.localId()).isPresent());
    PeerLink ba = b.link(a.localId()).orElseThrow();
    for (PeerLink link : new PeerLink[] {ab, ba}) {
      EpollSocketChannel control = (EpollSocketChannel) link.control();
      assertEquals(1000, control.config().getTcpUserTimeout(), control.toString());
      assertTrue(control.config().getReceiveBufferSize() >= PathLiveness.CONTROL_RECEIVE_BUFFER_BYTES,
          "control receive buffer " + control.config().getReceiveBufferSize());
      assertEquals(0, ((EpollSocketChannel) link.data()).config().getTcpUserTimeout(), link.data().toString());
    }
  }

  @Test
  void aReceiverThatStopsReadingForSeveralUserTimeoutsKeepsItsLinkAndGetsEverything() throws Exception {
    RecordingListener heardByB = new RecordingListener();
    Transport b = mesh.tls("b", "dc", heardByB, c -> c.pathLiveness(PathLivenessTest.FAST));
    Transport a = mesh.tls("a", "branch", null, c -> c.pathLiveness(PathLivenessTest.FAST));
    PeerLink ab = a.connect(b.boundAddress()).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> b.link(a.localId()).isPresent());
    PeerLink ba = b.link(a.localId()).orElseThrow();

    // b's machine stops running it: nothing is read from either socket
    pause(ba.control(), false);
    pause(ba.data(), false);
    // a's fetch answered (2 MiB of pieces: far beyond any receive window, so a's data connection sits at a
    // zero window) and 256 KiB of control traffic (requests, haves, SWIM) meanwhile
    Frame piece = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[64 * 1024])))
        .build();
    Frame controlFrame = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[4 * 1024])))
        .build();
    for (int i = 0; i < 32; i++) {
      ab.sendData(piece);
    }
    for (int i = 0; i < 64; i++) {
      assertTrue(ab.sendControl(controlFrame));
    }
    // four user timeouts without a read: before, the kernel closed a's connections after ~1.4 s
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> ab.isOpen() && ba.isOpen());

    pause(ba.control(), true);
    pause(ba.data(), true);
    await().atMost(Duration.ofSeconds(20)).until(() -> heardByB.frames.size() >= 96);
    assertEquals(96, heardByB.frames.size());
    assertTrue(ab.isOpen() && ba.isOpen());
    assertSame(ab, a.link(b.localId()).orElseThrow());
  }

  private static void pause(Channel ch, boolean read) throws Exception {
    ch.eventLoop().submit(() -> ch.config().setAutoRead(read)).get(5, TimeUnit.SECONDS);
  }
}
