package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upload-yield wired end to end on real sockets (TLS over the epoll transport): a seed with {@code
 * upload-yield: ledbat} serves two agents of another site that do not pace themselves ({@code
 * wan-yield: off}). While it serves, the driver reads their data connections' TCP RTT into the pacer
 * (its diagnostics line shows an RTT), and the rollout completes: paced serving wakes on its own
 * timer and never stalls. Loopback has no bottleneck, so this checks the wiring, not the yielding
 * (that is ServingUploadYieldTest's, on virtual time).
 */
class UploadYieldSeedTest {
  @TempDir Path tmp;

  @Test
  void aSeedWithUploadYieldSamplesItsWanRequestersRttAndCompletesTheRollout() throws Exception {
    assumeTrue(Epoll.isAvailable(), "TCP_INFO needs the epoll transport");
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", b -> b.uploadYield("ledbat"), o -> o, Optional.empty());
      for (int i = 1; i <= 2; i++) {
        mesh.startAgent("far-" + i, "far", b -> b.wanYield("off"), o -> o);
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, 16 << 20, 7);
      VerifiedManifest vm = mesh.publish(seed, content, "test/yield", 1);
      AtomicReference<String> sampled = new AtomicReference<>();
      Pattern rtt = Pattern.compile("upload-yield:.* rtt ([0-9]+) ms");
      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(50)).until(() -> {
        String d = seed.node().describeSwarm();
        Matcher m = rtt.matcher(d);
        if (m.find() && Long.parseLong(m.group(1)) > 0) {
          sampled.compareAndSet(null, d);
        }
        return mesh.agents().stream().allMatch(a -> SwarmTest.applied(a, vm));
      });
      assertTrue(sampled.get() != null, "the seed never showed an RTT sample of a WAN requester");
      byte[] want = SwarmTest.sha(content);
      for (NodeRuntime a : mesh.agents()) {
        assertArrayEquals(want, SwarmTest.sha(a.config().applyDir().resolve("lib.bin")), a.config().site());
      }
    }
  }

  private static void assertTrue(boolean b, String message) {
    org.junit.jupiter.api.Assertions.assertTrue(b, message);
  }
}
