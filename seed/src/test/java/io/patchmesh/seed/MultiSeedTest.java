package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.tls.PlaintextNodeKey;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several seeds: an agent may join through any of them; a client without a mesh certificate gets nothing. */
class MultiSeedTest {
  @TempDir Path tmp;

  @Test
  void anAgentJoinsThroughTheSecondSeedAndGetsWhatTheFirstPublishes() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode first = mesh.startSeed("dc");
      SeedNode second = mesh.startSeed("seed-2", "dc-2", o -> o); // joins the first
      String viaSecond = "127.0.0.1:" + second.node().transport().boundAddress().getPort();
      NodeRuntime agent = mesh.startAgent("agent", "branch", b -> b.join(List.of(viaSecond)), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> agent.members().stream()
          .filter(m -> m.status() == MemberStatus.ALIVE).count() == 3);

      Path content = tmp.resolve("patch/x.bin");
      LocalMesh.randomFile(content, 300_000, 11);
      VerifiedManifest vm = mesh.publish(first, content, "multi/seed", 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> agent.manifestStatuses().stream()
          .anyMatch(s -> s.getManifestId().equals(vm.id().toByteString()) && s.getPhase() == ManifestPhase.PHASE_APPLIED));
      // the second seed learned it too, and now holds the agent's report
      await().atMost(Duration.ofSeconds(30)).until(() -> second.node().store().manifests().contains(vm.id())
          && second.board().agents().stream().anyMatch(a -> a.nodeId().equals(agent.id().hex())));

      // a client with no mesh certificate at all (plaintext) gets no link to a TLS node
      try (Transport stranger = new Transport(
          TransportConfig.builder("branch").listen("127.0.0.1", 0).handshakeTimeout(Duration.ofSeconds(3)).build(),
          TransportSecurity.plaintext(PlaintextNodeKey.loadOrCreate(tmp.resolve("stranger"))))) {
        stranger.start();
        boolean refused;
        try {
          PeerLink link = stranger.connect(new InetSocketAddress("127.0.0.1", first.node().transport().boundAddress().getPort()))
              .get(10, TimeUnit.SECONDS);
          refused = !link.isOpen();
        } catch (ExecutionException | TimeoutException e) {
          refused = true;
        }
        assertTrue(refused, "a client without a mesh certificate is refused");
        assertTrue(first.node().transport().links().stream().noneMatch(l -> l.site().equals("branch") && !l.peerId().equals(agent.id())));
      }
    }
  }
}
