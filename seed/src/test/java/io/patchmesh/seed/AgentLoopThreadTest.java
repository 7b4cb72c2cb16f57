package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.patchmesh.net.LinkListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent reads its links on the thread its node loop runs on (one thread for I/O and protocol,
 * BENCHMARKS 13q); a seed keeps a loop thread of its own beside its I/O threads.
 */
class AgentLoopThreadTest {
  @TempDir Path tmp;

  @Test
  void anAgentsLinksAreReadOnItsNodeLoopThreadAndASeedsAreNot() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      NodeRuntime agent = mesh.startAgent("agent-0", "site-a");
      AtomicReference<Thread> agentReads = reader(agent);
      AtomicReference<Thread> seedReads = reader(seed.node());
      await().atMost(Duration.ofSeconds(60)).until(() -> agentReads.get() != null && seedReads.get() != null);
      assertSame(agent.onLoop(Thread::currentThread), agentReads.get());
      assertNotSame(seed.node().onLoop(Thread::currentThread), seedReads.get());
    }
  }

  /** The thread the node's transport last handed a frame to its listeners on. */
  private static AtomicReference<Thread> reader(NodeRuntime node) {
    AtomicReference<Thread> thread = new AtomicReference<>();
    node.transport().addListener(new LinkListener() {
      @Override
      public void onFrame(PeerLink link, Frame frame) {
        thread.set(Thread.currentThread());
      }
    });
    return thread;
  }
}
