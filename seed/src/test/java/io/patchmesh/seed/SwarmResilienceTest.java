package io.patchmesh.seed;

import static io.patchmesh.seed.SwarmTest.applied;
import static io.patchmesh.seed.SwarmTest.sha;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The swarm when things go wrong: the seed leaves, an agent crashes, a peer lies. Real TLS sockets,
 * RocksDB stores and emulated WAN links; small patches so each case takes seconds.
 */
class SwarmResilienceTest {
  static final long SIZE = 4L << 20;

  @TempDir Path tmp;

  /** Every node knows every other: a just-joined agent may otherwise know only the seed. */
  private static void awaitMembers(LocalMesh mesh, SeedNode seed, int n) {
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == n
        && mesh.agents().stream().allMatch(a -> a.members().size() == n));
  }

  private static void assertAllApplied(LocalMesh mesh, VerifiedManifest vm, Path content) throws Exception {
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    byte[] want = sha(content);
    for (NodeRuntime a : mesh.agents()) {
      assertArrayEquals(want, sha(a.config().applyDir().resolve("lib.bin")), a.site());
    }
  }

  private static boolean unionHoldsEveryChunk(List<NodeRuntime> agents, ChunkTable table) {
    for (int i = 0; i < table.count(); i++) {
      boolean held = false;
      for (NodeRuntime a : agents) {
        if (a.store().chunks().has(table.id(i))) {
          held = true;
          break;
        }
      }
      if (!held) {
        return false;
      }
    }
    return true;
  }

  @Test
  void seedKilledOnceOneFullCopyExistsRolloutStillCompletes() throws Exception {
    // branch-fast gathers a full copy long before branch-slow, which then has only the other
    // site's agents to fetch from.
    WanEmulator wan = new WanEmulator().siteMbit("branch-fast", 100).siteMbit("branch-slow", 4);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (String s : List.of("branch-fast", "branch-slow")) {
        for (int i = 1; i <= 2; i++) {
          mesh.startAgent(s + "-" + i, s);
        }
      }
      awaitMembers(mesh, seed, 5);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, SIZE, 3);
      VerifiedManifest vm = mesh.publish(seed, content, "test/seedless", 1);
      ChunkTable table = ChunkTable.of(vm.manifest());

      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20))
          .until(() -> unionHoldsEveryChunk(mesh.agents(), table));
      boolean slowSiteIncomplete = mesh.agents().stream().anyMatch(a -> !applied(a, vm));
      mesh.killSeed(seed); // a crash: no leave message, its links just drop
      assertTrue(slowSiteIncomplete, "the seed must go while some agent still needs chunks");

      assertAllApplied(mesh, vm, content);
    }
  }

  @Test
  void agentKilledMidwayAndRestartedNeverFetchesAVerifiedChunkTwice() throws Exception {
    WanEmulator wan = new WanEmulator().siteMbit("branch-a", 8);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (int i = 1; i <= 3; i++) {
        mesh.startAgent("branch-a-" + i, "branch-a");
      }
      awaitMembers(mesh, seed, 4);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, SIZE, 4);
      VerifiedManifest vm = mesh.publish(seed, content, "test/crash", 1);
      int total = ChunkTable.of(vm.manifest()).count();

      NodeRuntime victim = mesh.agents().get(0);
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(10))
          .until(() -> victim.store().chunks().count() >= total / 4);
      mesh.kill(victim);
      long keptAtCrash = victim.store().chunks().count();
      assertTrue(keptAtCrash < total, "killed midway, not after completing");

      NodeRuntime restarted = mesh.startAgent("branch-a-1", "branch-a");
      assertAllApplied(mesh, vm, content);
      assertEquals(total - keptAtCrash, restarted.store().chunks().newPuts(),
          "after the restart it fetched exactly the chunks it lacked");
      assertEquals(0, restarted.store().chunks().duplicatePuts(), "no chunk it held was stored again");
    }
  }

  @Test
  void peerServingCorruptChunksIsBannedAndEveryAgentEndsCorrect() throws Exception {
    // A slow WAN makes the rogue, a LAN peer that claims every chunk, the most attractive source.
    WanEmulator wan = new WanEmulator().siteMbit("branch-a", 8);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (int i = 1; i <= 3; i++) {
        mesh.startAgent("branch-a-" + i, "branch-a");
      }
      awaitMembers(mesh, seed, 4);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, SIZE, 5);
      // the rogue is linked to every agent before the seed announces the patch, so no agent can complete before
      // the rogue could claim it (linking after the publish raced the agents on a slow machine)
      VerifiedManifest vm = mesh.prepare(seed, content, "test/rogue", 1);
      try (MaliciousPeer rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "branch-a", vm, MaliciousPeer.Behaviour.CORRUPT_CHUNKS)) {
        for (NodeRuntime a : mesh.agents()) {
          rogue.connect(a);
        }
        mesh.offer(seed, vm);
        assertAllApplied(mesh, vm, content);
        for (NodeRuntime a : mesh.agents()) {
          assertTrue(a.metrics().bans() >= 1, a.config().dataDir() + " did not ban a peer serving corrupt chunks");
          assertTrue(rogue.hungUpOn.contains(a.id()), "a banned peer's connection is closed");
        }
        assertTrue(rogue.piecesServed.get() >= 3 * mesh.agents().size());
      }
    }
  }
}
