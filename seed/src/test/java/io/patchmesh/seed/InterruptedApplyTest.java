package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that finds an apply its earlier life left in progress (the store's {@code applying:HEX})
 * says what became of it. Here the apply and its install had completed and only the "applied"
 * record was lost (a crash between the two): it is reported applied, and the install command does
 * not run again. (An apply killed during its install is RolloutSilentApplyingTest's.)
 */
class InterruptedApplyTest {
  @TempDir Path tmp;

  @Test
  void anApplyThatHadCommittedBeforeTheCrashIsReportedAppliedWithoutRunningAgain() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o);
      NodeRuntime agent = mesh.startAgent("agent-0", "site-a", b -> b.allowInstallCommands(true), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path v1 = tmp.resolve("patch/v1.bin");
      LocalMesh.randomFile(v1, 100_000, 3);
      VerifiedManifest vm = mesh.publish(seed, v1, "fleet/interrupted", 1,
          b -> b.installCommand("echo ran >> \"$PATCHMESH_APPLY_DIR/../installs\""));
      await().atMost(Duration.ofSeconds(60)).until(() -> FleetTest.phase(agent, vm, ManifestPhase.PHASE_APPLIED));
      Path installs = agent.config().applyDir().resolve("../installs");
      assertEquals(1, Files.readAllLines(installs).size());
      Path data = agent.config().dataDir();
      mesh.kill(agent);

      try (NodeStore store = NodeStore.open(data.resolve("store"), StoreConfig.DEFAULTS)) {
        store.state().delete("applied:" + vm.id().hex(), true);
        store.state().putString("applying:" + vm.id().hex(), "running", true);
      }
      NodeRuntime back = mesh.startAgent("agent-0", "site-a", b -> b.allowInstallCommands(true), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> FleetTest.phase(back, vm, ManifestPhase.PHASE_APPLIED));
      assertEquals(1, Files.readAllLines(installs).size(), "the install command did not run again");
      try {
        back.close();
      } finally {
        mesh.agents().remove(back);
      }
      try (NodeStore store = NodeStore.open(data.resolve("store"), StoreConfig.DEFAULTS)) {
        assertEquals("ok", store.state().getString("applied:" + vm.id().hex()), "the applied record is written again");
        assertTrue(store.state().getString("applying:" + vm.id().hex()) == null, "the in-progress record is gone");
      }
    }
  }
}
