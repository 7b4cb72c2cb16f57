package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.proto.Rollout;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.FleetTest.TestClock;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent admitted to a stage that is linked to the seed but has sent it no report holds the
 * stage: the stage does not open on the other agents' reports. Before, the seed tallied agents
 * from its report board only, so right after a publish (or while an agent's first report was slow)
 * the first stage opened as soon as the agents that had reported applied. Real TLS mesh, the seed on
 * a clock the test moves; the unreported agent is a member with a valid agent certificate (of its
 * own site) that links to the seed and never sends a status report. Once its link goes away it no
 * longer holds the stage.
 */
class RolloutUnreportedTest {
  /** Every agent admitted to the first of two stages. */
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(100).addStagePercent(100).build();

  @TempDir Path tmp;

  @Test
  void aLinkedAgentWithNoReportKeepsStageOneFromOpening() throws Exception {
    TestClock clock = new TestClock(Instant.now());
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      NodeRuntime ok = mesh.startAgent("agent-ok", "site-a");
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      RolloutSilentApplyingTest.awaitReported(seed, ok);
      try (MaliciousPeer silent = new MaliciousPeer(mesh.dir(), tmp.resolve("silent"), "agent-silent", "site-b", null,
          MaliciousPeer.Behaviour.QUIET, id -> null)) {
        silent.connect(seed.node());
        String silentId = silent.id().hex();
        await().atMost(Duration.ofSeconds(30)).until(() -> linked(seed, silentId));

        Path v1 = tmp.resolve("patch/v1.bin");
        LocalMesh.randomFile(v1, 200_000, 11);
        VerifiedManifest vm = mesh.publish(seed, v1, "fleet/unreported", 1, b -> b.rollout(PLAN));
        await().atMost(Duration.ofSeconds(60)).until(() -> RolloutSilentApplyingTest.rowState(RolloutUnheardTest.view(seed, vm), ok)
            .equals("applied"));

        // past the empty-stage grace and the gone rule: only the silent agent's link holds the stage
        clock.millis.addAndGet(RolloutController.EMPTY_STAGE_GRACE_MILLIS + RolloutController.GONE_AFTER_MILLIS + 60_000);
        long ticks = seed.rollouts().ticks();
        await().atMost(Duration.ofSeconds(30)).until(() -> seed.rollouts().ticks() >= ticks + 3);
        assertTrue(linked(seed, silentId), "the silent agent's link held the whole time");
        RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
        assertEquals("active", v.state(), v.toString());
        assertEquals(0, v.stage(), "stage 1 stays the open one while an admitted agent is linked and unreported: " + v);
        assertEquals(2, v.admitted(), v.toString());
        assertEquals(1, v.applied(), v.toString());
        assertEquals(0, v.failed(), "pending, not failed: " + v);
        assertEquals(0, seed.rollouts().decisions());

        // the view names it as pending and heard (it is linked), under its certificate's site
        JsonNode r = RolloutUnheardTest.view(seed, vm);
        JsonNode row = RolloutUnheardTest.agentRow(r, silentId);
        assertEquals("pending", row.path("state").asText(), row.toString());
        assertTrue(row.path("heard").asBoolean(), row.toString());
        assertEquals("site-b", row.path("site").asText(), row.toString());
        assertEquals(0, r.path("unheard").asInt(), r.toString());

        silent.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> !linked(seed, silentId));
        await().atMost(Duration.ofSeconds(30)).until(() -> seed.rollouts().view(vm.id()).orElseThrow().stage() == 1);
        assertEquals("active", seed.rollouts().view(vm.id()).orElseThrow().state());
      }
    }
  }

  static boolean linked(SeedNode seed, String id) {
    return seed.node().transport().links().stream().anyMatch(l -> l.peerId().hex().equals(id));
  }
}
