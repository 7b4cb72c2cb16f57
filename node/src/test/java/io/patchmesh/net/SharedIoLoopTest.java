package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.tls.PlaintextNodeKey;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import io.patchmesh.runtime.NodeLoop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's transport on its node loop's I/O loop: the link's channels live on the loop's thread,
 * frames read there are handed to the loop without running inside the read, a link closed inside a
 * loop task tells the loop afterwards, and close order (transport, then loop) shuts the shared loop down.
 */
class SharedIoLoopTest {
  @TempDir Path tmp;

  @Test
  void theLinksChannelsRunOnTheNodeLoopsThread() throws Exception {
    NodeLoop loop = NodeLoop.onIoLoop("shared", 1, () -> System.nanoTime() / 1_000_000);
    try (MeshFixture fx = new MeshFixture(tmp)) {
      List<String> seen = new CopyOnWriteArrayList<>();
      Transport agent = new Transport(MeshFixture.config("a").build(),
          TransportSecurity.plaintext(PlaintextNodeKey.loadOrCreate(tmp.resolve("agent"))), loop.ioLoops());
      agent.addListener(new LinkListener() {
        @Override
        public void onFrame(PeerLink link, Frame frame) {
          seen.add("read on loop thread " + loop.inLoop());
          loop.execute(() -> seen.add("handled " + frame.getPing().getSeq()));
          seen.add("read done " + frame.getPing().getSeq());
        }

        @Override
        public void onLinkDown(PeerLink link, String reason) {
          loop.execute(() -> seen.add("down"));
        }
      });
      agent.start();
      Transport other = fx.plaintext("other", "a", null, b -> {});
      PeerLink link = agent.connect(MeshFixture.address(other)).get(20, TimeUnit.SECONDS);
      CompletableFuture<Boolean> same = new CompletableFuture<>();
      loop.execute(() -> same.complete(link.control().eventLoop().inEventLoop() && loop.inLoop()));
      assertTrue(same.get(10, TimeUnit.SECONDS), "the control channel's event loop is the node loop");
      await().atMost(Duration.ofSeconds(20)).until(() -> other.link(agent.localId()).isPresent());
      other.link(agent.localId()).orElseThrow().sendControl(
          Frame.newBuilder().setPing(Ping.newBuilder().setSeq(7)).build());
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() >= 3);
      assertEquals(List.of("read on loop thread true", "read done 7", "handled 7"), seen.subList(0, 3));

      // a link closed inside a loop task: the listener's loop task runs after that task, not inside it
      CompletableFuture<List<String>> duringTask = new CompletableFuture<>();
      loop.execute(() -> {
        link.close("test: closed on the loop");
        duringTask.complete(List.copyOf(seen));
      });
      assertFalse(duringTask.get(10, TimeUnit.SECONDS).contains("down"));
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains("down"));

      agent.close();
      assertFalse(loop.ioLoops().group().isShuttingDown(), "the transport does not stop loops it was handed");
    } finally {
      loop.close();
    }
    assertTrue(loop.ioLoops().group().isTerminated());
  }
}
