package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.LinkListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rogue with a valid agent certificate (no seed role) tells agents that a rollout's windows are
 * overridden: they keep waiting for their window. The same override from the certified seed lets
 * them apply.
 */
class WindowOverrideAttackTest {
  @TempDir Path tmp;

  @Test
  void anOverrideFromAPeerWithoutTheSeedRoleLiftsNoWindow() throws Exception {
    int hour = Instant.now().atZone(ZoneOffset.UTC).plusHours(2).getHour();
    String closed = String.format("daily %02d:00-%02d:00 UTC", hour, (hour + 1) % 24);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      List<NodeRuntime> agents = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        agents.add(mesh.startAgent("agent-" + i, "site-a", b -> b.window(closed), o -> o));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3);
      Path content = tmp.resolve("patch/p.bin");
      LocalMesh.randomFile(content, 30_000, 3);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/attack-override", 1, b -> b);
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> FleetTest.status(a, vm)
          .map(s -> s.getPhase() == ManifestPhase.PHASE_WAITING && s.getReason().contains("waiting for window")).orElse(false)));

      try (MaliciousPeer rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "site-a", null, MaliciousPeer.Behaviour.QUIET)) {
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        rogue.transport.addListener(new LinkListener() {
          @Override
          public void onFrame(PeerLink link, Frame frame) {
            if (frame.hasAck()) {
              acked.add(frame.getAck().getSeq());
            }
          }
        });
        long seq = 100;
        long now = System.currentTimeMillis();
        for (NodeRuntime a : agents) {
          PeerLink link = rogue.connect(a);
          rogue.send(link, Frame.newBuilder().setRolloutState(RolloutState.newBuilder().setManifestId(vm.id().toByteString())
              .setState(RolloutState.State.ACTIVE).setOpenPermille(1000).setSeedTimeUnixMs(now + 60_000)
              .setWindowOverrideUntilUnixMs(now + 3_600_000)).build());
          long s = ++seq;
          rogue.send(link, Frame.newBuilder().setPing(Ping.newBuilder().setSeq(s).setTarget(a.id().toByteString())).build());
          // the agent answers the ping only after it has handled the frame before it on the link
          await().atMost(Duration.ofSeconds(20)).until(() -> acked.contains(s));
        }
        long ticks = seed.rollouts().ticks();
        await().atMost(Duration.ofSeconds(20)).until(() -> seed.rollouts().ticks() >= ticks + 3);
        for (NodeRuntime a : agents) {
          assertTrue(FleetTest.status(a, vm).map(s -> s.getPhase() == ManifestPhase.PHASE_WAITING
              && s.getReason().contains("waiting for window")).orElse(false), a.id().shortHex() + " ignored the rogue's override");
        }
      }
      FleetTest.post(seed, "/api/v1/rollouts/" + vm.id().hex() + "/override-window?for=1h");
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    }
  }
}
