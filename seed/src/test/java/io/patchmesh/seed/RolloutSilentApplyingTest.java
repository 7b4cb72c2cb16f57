package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Rollout;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.FleetTest.TestClock;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A patch whose install takes its host down must not pass the canary stage. Its canaries report
 * that they are applying, then fall silent: once the seed has had no link to them and no report
 * for 15 s they stay in the stage's tally as failed, the plan's failure threshold halts the
 * rollout and the next stage never opens. An agent that left while merely waiting (a laptop whose
 * window is closed) still leaves the tally after those 15 s and holds nothing up. Real mesh, the
 * seed on a clock the test moves; the "crash" is an install command that hangs until the agent is
 * killed.
 */
class RolloutSilentApplyingTest {
  static final String HANG = "if [ -e \"$PATCHMESH_APPLY_DIR/../hang\" ]; then sleep 120; fi";
  /** Every agent admitted to the first of two stages; over a third of them failed halts it. */
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(100).addStagePercent(100).setHaltFailurePermille(340).build();

  @TempDir Path tmp;

  /** A window that is closed now and for the next hours (an agent that waits for it). */
  static String closedWindow() {
    ZonedDateTime start = ZonedDateTime.now(ZoneOffset.UTC).plusHours(6);
    return String.format("daily %02d:00-%02d:00 UTC", start.getHour(), (start.getHour() + 1) % 24);
  }

  static NodeRuntime agent(LocalMesh mesh, String name, String window) {
    return mesh.startAgent(name, "site-a", b -> b.allowInstallCommands(true).window(window), o -> o);
  }

  @Test
  void canariesThatDieApplyingHaltTheStageAndAWaitingLaptopThatLeftDoesNot() throws Exception {
    TestClock clock = new TestClock(Instant.now());
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      NodeRuntime ok = agent(mesh, "agent-ok", null);
      NodeRuntime victim = agent(mesh, "agent-victim", null);
      NodeRuntime laptop = agent(mesh, "agent-laptop", closedWindow());
      Files.createDirectories(victim.config().applyDir());
      Files.writeString(victim.config().applyDir().resolve("../hang"), "x");
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 4);
      awaitReported(seed, ok, victim, laptop);
      Path v1 = tmp.resolve("patch/v1.bin");
      LocalMesh.randomFile(v1, 200_000, 7);
      VerifiedManifest vm = mesh.publish(seed, v1, "fleet/canary", 1, b -> b.installCommand(HANG).rollout(PLAN));

      // the seed holds each one's report: applied, applying (its install hangs), waiting for its window
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonNode r = view(seed, vm);
        return rowState(r, ok).equals("applied") && rowState(r, victim).equals("applying") && rowState(r, laptop).equals("waiting");
      });
      RolloutController.View before = seed.rollouts().view(vm.id()).orElseThrow();
      assertEquals("active", before.state());
      assertEquals(0, before.stage(), "two agents of the stage have not finished");

      String victimId = victim.id().hex();
      String laptopId = laptop.id().hex();
      mesh.kill(victim);
      mesh.kill(laptop);
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().transport().links().stream()
          .noneMatch(l -> l.peerId().hex().equals(victimId) || l.peerId().hex().equals(laptopId)));
      clock.millis.addAndGet(RolloutController.GONE_AFTER_MILLIS + 1_000);
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.rollouts().view(vm.id()).orElseThrow().state().equals("halted"));

      RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
      assertEquals(0, v.stage(), "the next stage did not open: " + v);
      assertEquals(2, v.admitted(), "the laptop left the tally, the silent canary stayed: " + v);
      assertEquals(1, v.applied(), v.toString());
      assertEquals(1, v.failed(), "silent while applying counts as failed: " + v);
      assertTrue(v.reason().contains("1 of 2") && v.reason().contains("silent while applying"), v.reason());

      JsonNode r = view(seed, vm);
      assertEquals("halted", r.path("state").asText(), r.toString());
      assertEquals(1, r.path("silentApplying").asInt(), r.toString());
      assertEquals(1, r.path("sites").get(0).path("silentApplying").asInt(), r.toString());
      assertEquals(1, r.path("unheard").asInt(), "the laptop: targeted in the view, unheard: " + r);
      JsonNode row = RolloutUnheardTest.agentRow(r, victimId);
      assertEquals("silent-applying", row.path("state").asText(), row.toString());
      assertTrue(row.path("reason").asText().startsWith("silent while applying"), row.toString());
      assertEquals("waiting", RolloutUnheardTest.agentRow(r, laptopId).path("state").asText());

      // back after the crash: it says what happened instead of applying again
      NodeRuntime back = agent(mesh, "agent-victim", null);
      assertEquals(victimId, back.id().hex());
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonNode a = RolloutUnheardTest.agentRow(view(seed, vm), victimId);
        return a.path("state").asText().equals("failed") && a.path("reason").asText().startsWith("interrupted while applying");
      });
      assertTrue(FleetTest.phase(back, vm, ManifestPhase.PHASE_FAILED));
      assertEquals("halted", seed.rollouts().view(vm.id()).orElseThrow().state());
    }
  }

  @Test
  void aLaptopThatLeftWhileWaitingDoesNotHoldTheStage() throws Exception {
    TestClock clock = new TestClock(Instant.now());
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      NodeRuntime ok = agent(mesh, "agent-ok", null);
      NodeRuntime laptop = agent(mesh, "agent-laptop", closedWindow());
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3);
      awaitReported(seed, ok, laptop);
      Path v1 = tmp.resolve("patch/v1.bin");
      LocalMesh.randomFile(v1, 200_000, 8);
      VerifiedManifest vm = mesh.publish(seed, v1, "fleet/laptop", 1, b -> b.installCommand(HANG).rollout(PLAN));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonNode r = view(seed, vm);
        return rowState(r, ok).equals("applied") && rowState(r, laptop).equals("waiting");
      });
      assertEquals(0, seed.rollouts().view(vm.id()).orElseThrow().stage());

      String laptopId = laptop.id().hex();
      mesh.kill(laptop);
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().transport().links().stream()
          .noneMatch(l -> l.peerId().hex().equals(laptopId)));
      clock.millis.addAndGet(RolloutController.GONE_AFTER_MILLIS + 1_000);
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.rollouts().view(vm.id()).orElseThrow().stage() == 1);
      RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
      assertEquals("active", v.state(), v.toString());
      JsonNode after = view(seed, vm);
      assertEquals(0, after.path("silentApplying").asInt(), after.toString());
    }
  }

  /**
   * Waits until the seed holds a report from each agent. Since an agent linked to the seed holds its
   * stage before its first report too ({@link StageCensus}), this is belt and braces for the first
   * stage: it also makes sure the seed knows every agent by its own report before the publish (a
   * clean clone once saw the first stage open before the laptop's first report arrived, when only
   * reports counted).
   */
  static void awaitReported(SeedNode seed, NodeRuntime... agents) {
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      java.util.Set<String> reported = new java.util.HashSet<>();
      seed.board().agents().forEach(a -> reported.add(a.nodeId()));
      return java.util.Arrays.stream(agents).allMatch(a -> reported.contains(a.id().hex()));
    });
  }

  static JsonNode view(SeedNode seed, VerifiedManifest vm) throws Exception {
    return RolloutUnheardTest.view(seed, vm);
  }

  /** The agent's row state in the view, or "" while the view does not list it. */
  static String rowState(JsonNode r, NodeRuntime agent) {
    for (JsonNode a : r.path("agents")) {
      if (a.path("id").asText().equals(agent.id().hex())) {
        return a.path("state").asText();
      }
    }
    return "";
  }
}
