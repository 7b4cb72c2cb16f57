package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import io.patchmesh.runtime.NodeLoop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control frames sent on the control connection's own event loop (an agent's node loop): written at
 * once, flushed once at the end of the loop's iteration, over real TLS sockets. They arrive whole and
 * in order, among frames that flush themselves, and before a Goodbye sent after them.
 */
class LoopControlFlushTest {
  @TempDir Path tmp;

  private static Frame ping(int seq) {
    return Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq)).build();
  }

  /** Counts the flushes that reach the socket (first in the pipeline: after TLS). */
  private static AtomicInteger countFlushes(PeerLink link) {
    AtomicInteger flushes = new AtomicInteger();
    link.control().pipeline().addFirst("count-flushes", new ChannelOutboundHandlerAdapter() {
      @Override
      public void flush(ChannelHandlerContext ctx) {
        flushes.incrementAndGet();
        ctx.flush();
      }
    });
    return flushes;
  }

  @Test
  void framesSentInOneLoopIterationLeaveInOneFlushInOrder() throws Exception {
    NodeLoop loop = NodeLoop.onIoLoop("flush", 1, () -> System.nanoTime() / 1_000_000);
    try (MeshFixture fx = new MeshFixture(tmp)) {
      Transport agent = fx.start(new Transport(MeshFixture.config("a").build(),
          TransportSecurity.mutualTls(fx.issue("agent", "a")), loop.ioLoops()), null);
      RecordingListener heard = new RecordingListener();
      Transport other = fx.tls("other", "a", heard);
      PeerLink link = agent.connect(MeshFixture.address(other)).get(20, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(20)).until(() -> other.link(agent.localId()).isPresent());
      CompletableFuture<AtomicInteger> counter = new CompletableFuture<>();
      loop.execute(() -> counter.complete(countFlushes(link)));
      AtomicInteger flushes = counter.get(10, TimeUnit.SECONDS);

      // three tasks of one burst, as a drain of several inputs sends: single frames and a list
      CompletableFuture<Integer> before = new CompletableFuture<>();
      CompletableFuture<Integer> inside = new CompletableFuture<>();
      loop.execute(() -> {
        before.complete(flushes.get());
        loop.execute(() -> {
          for (int i = 1; i <= 10; i++) {
            assertTrue(link.sendControl(ping(i)));
          }
        });
        loop.execute(() -> {
          assertTrue(link.sendControl(List.of(ping(11), ping(12), ping(13))));
          inside.complete(flushes.get());
        });
      });
      List<Frame> got = new ArrayList<>();
      for (int i = 1; i <= 13; i++) {
        Frame f = heard.frames.poll(10, TimeUnit.SECONDS);
        got.add(f);
      }
      List<Frame> want = new ArrayList<>();
      for (int i = 1; i <= 13; i++) {
        want.add(ping(i));
      }
      assertEquals(want, got);
      assertEquals(before.get(), inside.get(), "nothing flushed while the loop's tasks ran");
      assertEquals(before.get() + 1, flushes.get(), "one flush for the thirteen frames");

      // a frame that flushes itself (its write awaited) takes those waiting before it along, in order;
      // so does the Goodbye of a close
      CompletableFuture<Boolean> written = new CompletableFuture<>();
      loop.execute(() -> {
        link.sendControl(ping(14));
        link.sendControlWritten(ping(15)).thenAccept(written::complete);
        link.sendControl(ping(16));
        link.close("test: closed after control frames");
      });
      assertTrue(written.get(10, TimeUnit.SECONDS));
      assertEquals(ping(14), heard.frames.poll(10, TimeUnit.SECONDS));
      assertEquals(ping(15), heard.frames.poll(10, TimeUnit.SECONDS));
      assertEquals(ping(16), heard.frames.poll(10, TimeUnit.SECONDS));
      await().atMost(Duration.ofSeconds(20)).until(() -> !heard.downs.isEmpty());
      assertTrue(heard.downs.get(0).contains("test: closed after control frames"), heard.downs.toString());
    } finally {
      loop.close();
    }
  }

  @Test
  void framesSentFromAnotherThreadStillLeaveAtOnce() throws Exception {
    try (MeshFixture fx = new MeshFixture(tmp)) {
      RecordingListener heard = new RecordingListener();
      Transport a = fx.tls("pa", "a", null);
      Transport b = fx.tls("pb", "a", heard);
      PeerLink link = a.connect(MeshFixture.address(b)).get(20, TimeUnit.SECONDS);
      assertTrue(link.sendControl(ping(1)));
      assertTrue(link.sendControl(List.of(ping(2), ping(3))));
      for (int i = 1; i <= 3; i++) {
        assertEquals(ping(i), heard.frames.poll(10, TimeUnit.SECONDS));
      }
    }
  }
}
