package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.apply.RolloutGate;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Rollout;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fleet management on a real in-process mesh: staged rollouts, halts, windows, compliance, inventory. */
class FleetTest {
  @TempDir Path tmp;

  static Optional<ManifestStatus> status(NodeRuntime n, VerifiedManifest vm) {
    return n.manifestStatuses().stream().filter(s -> s.getManifestId().equals(vm.id().toByteString())).findFirst();
  }

  static boolean phase(NodeRuntime n, VerifiedManifest vm, ManifestPhase p) {
    return status(n, vm).map(s -> s.getPhase() == p).orElse(false);
  }

  static boolean haltedWaiting(NodeRuntime n, VerifiedManifest vm) {
    return status(n, vm).map(s -> s.getPhase() == ManifestPhase.PHASE_WAITING && s.getReason().contains("halted"))
        .orElse(false);
  }

  static JsonNode get(SeedNode seed, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .header("Authorization", "Bearer " + seed.node().adminToken().value()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new ObjectMapper().readTree(r.body());
  }

  /** GET that answers empty on 404 (a seed that has not received a manifest yet). */
  static Optional<JsonNode> getIfKnown(SeedNode seed, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .header("Authorization", "Bearer " + seed.node().adminToken().value()).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 404) {
      return Optional.empty();
    }
    assertEquals(200, r.statusCode(), r.body());
    return Optional.of(new ObjectMapper().readTree(r.body()));
  }

  static JsonNode post(SeedNode seed, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .header("Authorization", "Bearer " + seed.node().adminToken().value())
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    return new ObjectMapper().readTree(r.body());
  }

  LocalMesh mesh(int agents, boolean allowInstall) throws Exception {
    LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    mesh.startSeed("dc");
    for (int i = 0; i < agents; i++) {
      String ring = i < 2 ? "canary" : "main";
      mesh.startAgent("agent-" + i, i % 2 == 0 ? "site-a" : "site-b",
          b -> b.allowInstallCommands(allowInstall).labels(java.util.Map.of("ring", ring)), o -> o);
    }
    SeedNode seed = mesh.seeds().get(0);
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == agents + 1);
    return mesh;
  }

  @Test
  void threeStageRolloutOverTwelveAgentsAdvancesStageByStage() throws Exception {
    try (LocalMesh mesh = mesh(12, false)) {
      SeedNode seed = mesh.seeds().get(0);
      Path content = tmp.resolve("patch/a.bin");
      LocalMesh.randomFile(content, 200_000, 3);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/staged", 1,
          b -> b.rollout(Rollout.newBuilder().addStagePercent(25).addStagePercent(50).addStagePercent(100).build()));
      List<Integer> stagesSeen = new ArrayList<>();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
        // read who applied first, then the stage: stages only advance, so every agent that
        // applied must be admitted by the share open now
        List<NodeRuntime> applied = mesh.agents().stream().filter(a -> phase(a, vm, ManifestPhase.PHASE_APPLIED)).toList();
        RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
        if (stagesSeen.isEmpty() || stagesSeen.get(stagesSeen.size() - 1) != v.stage()) {
          stagesSeen.add(v.stage());
        }
        for (NodeRuntime a : applied) {
          assertTrue(RolloutGate.admission(a.id(), vm.id()) < v.openPercent() * 10,
              "agent " + a.id().shortHex() + " applied before its stage opened");
        }
        return applied.size() == 12;
      });
      // stages only move forward, one at a time, and the last one opens (a stage whose
      // admitted agents all applied between two polls may not be seen)
      for (int i = 1; i < stagesSeen.size(); i++) {
        assertTrue(stagesSeen.get(i) > stagesSeen.get(i - 1), "stages move forward: " + stagesSeen);
      }
      assertEquals(2, stagesSeen.get(stagesSeen.size() - 1), "the last stage opened: " + stagesSeen);
    }
  }

  @Test
  void failingInstallHaltsTheRolloutAtItsStageAndSaysWhy() throws Exception {
    try (LocalMesh mesh = mesh(12, true)) {
      SeedNode seed = mesh.seeds().get(0);
      for (NodeRuntime a : mesh.agents()) {
        Files.createDirectories(a.config().applyDir());
        Files.writeString(a.config().applyDir().resolve("../fail"), "x");
      }
      Path content = tmp.resolve("patch/b.bin");
      LocalMesh.randomFile(content, 100_000, 4);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/halt", 1,
          b -> b.installCommand("if [ -e \"$PATCHMESH_APPLY_DIR/../fail\" ]; then echo boom; exit 7; fi")
              .rollout(Rollout.newBuilder().addStagePercent(25).addStagePercent(100).setHaltFailurePermille(100).build()));
      try {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
            .until(() -> seed.rollouts().view(vm.id()).map(v -> v.state().equals("halted")).orElse(false));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        System.out.println("VIEW " + seed.rollouts().view(vm.id()));
        for (NodeRuntime a : mesh.agents()) {
          System.out.println("AGENT " + a.id().shortHex() + " adm " + RolloutGate.admission(a.id(), vm.id()) + " " + status(a, vm));
        }
        throw e;
      }
      RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
      assertTrue(v.reason().contains("failed"), v.reason());
      int open = v.openPercent() * 10;
      // every admitted agent either ran the failing install or, having seen the halt first,
      // waits with the halt as its reason; at least one failed (that is what halted it)
      await().atMost(Duration.ofSeconds(30)).until(() -> mesh.agents().stream()
          .filter(a -> RolloutGate.admission(a.id(), vm.id()) < open)
          .allMatch(a -> phase(a, vm, ManifestPhase.PHASE_FAILED) || haltedWaiting(a, vm)));
      int failed = 0;
      for (NodeRuntime a : mesh.agents()) {
        if (RolloutGate.admission(a.id(), vm.id()) >= open) {
          assertFalse(phase(a, vm, ManifestPhase.PHASE_APPLIED) || phase(a, vm, ManifestPhase.PHASE_FAILED),
              "an agent outside the halted stage did nothing");
        } else if (phase(a, vm, ManifestPhase.PHASE_FAILED)) {
          ManifestStatus st = status(a, vm).orElseThrow();
          assertEquals(7, st.getInstallExit());
          assertTrue(st.getInstallOutputTail().contains("boom"));
          failed++;
        }
      }
      assertTrue(failed >= 1, "the failure that halted the rollout is reported");
      JsonNode api = get(seed, "/api/v1/rollouts/" + vm.id().hex());
      assertEquals("halted", api.path("state").asText());
      assertTrue(api.path("reason").asText().contains("failed"));
      // the operator aborts it: unknown ids are a 404
      assertEquals("aborted", post(seed, "/api/v1/rollouts/" + vm.id().hex() + "/abort").path("state").asText());
      assertTrue(post(seed, "/api/v1/rollouts/" + "00".repeat(32) + "/pause").has("error"));
    }
  }

  /** A wall clock the test moves. */
  static final class TestClock extends Clock {
    final AtomicLong millis;

    TestClock(Instant start) {
      millis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  @Test
  void closedWindowKeepsAgentsWaitingUntilItOpens() throws Exception {
    Instant now = Instant.now();
    // a one-hour daily window starting two hours from now (UTC)
    java.time.LocalTime start = now.atZone(ZoneOffset.UTC).toLocalTime().plusHours(2).withMinute(0).withSecond(0).withNano(0);
    String window = String.format("daily %02d:%02d-%02d:%02d UTC", start.getHour(), 0, (start.getHour() + 1) % 24, 0);
    TestClock clock = new TestClock(now);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      List<NodeRuntime> agents = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        agents.add(mesh.startAgent("agent-" + i, "site-a", b -> b, o -> o.withClock(clock)));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 4);
      Path content = tmp.resolve("patch/c.bin");
      LocalMesh.randomFile(content, 100_000, 5);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/window", 1,
          b -> b.rollout(Rollout.newBuilder().setWindow(window).build()));
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> phase(a, vm, ManifestPhase.PHASE_WAITING)
          && status(a, vm).orElseThrow().getReason().startsWith("verified, waiting for window")));
      for (NodeRuntime a : agents) {
        assertFalse(Files.exists(a.config().applyDir().resolve("c.bin")));
      }
      clock.millis.set(now.atZone(ZoneOffset.UTC).with(start).toInstant().plusSeconds(60).toEpochMilli()
          + (start.isBefore(now.atZone(ZoneOffset.UTC).toLocalTime()) ? 86_400_000L : 0));
      await().atMost(Duration.ofSeconds(30)).until(() -> agents.stream().allMatch(a -> phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    }
  }

  static long tempFiles(Path applyDir) throws java.io.IOException {
    if (!Files.exists(applyDir)) {
      return 0;
    }
    try (java.util.stream.Stream<Path> s = Files.walk(applyDir)) {
      return s.filter(p -> p.getFileName().toString().contains(".patchmesh-tmp-")).count();
    }
  }

  @Test
  void noFileIsStagedInTheApplyDirWhileTheWindowIsClosed() throws Exception {
    Instant now = Instant.now();
    java.time.LocalTime start = now.atZone(ZoneOffset.UTC).toLocalTime().plusHours(2).withMinute(0).withSecond(0).withNano(0);
    String window = String.format("daily %02d:00-%02d:00 UTC", start.getHour(), (start.getHour() + 1) % 24);
    TestClock clock = new TestClock(now);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      // a slow download (~3 s), so the agent spends several status ticks fetching
      NodeRuntime agent = mesh.startAgent("agent-0", "site-a", b -> b.downloadRate("12mbit"), o -> o.withClock(clock));
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/w.bin");
      LocalMesh.randomFile(content, 4_000_000, 9);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/staging-window", 1,
          b -> b.rollout(Rollout.newBuilder().setWindow(window).build()));
      Path applyDir = agent.config().applyDir();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
        assertEquals(0, tempFiles(applyDir), "nothing staged before the agent is admitted");
        return phase(agent, vm, ManifestPhase.PHASE_WAITING);
      });
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> tempFiles(applyDir) == 0);
      assertFalse(Files.exists(applyDir.resolve("w.bin")));
      assertEquals(0, agent.stagedApplies());
    }
  }

  @Test
  void anAdmittedAgentWritesFilesWhileDownloadingAndCommitsThemAtCompletion() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      NodeRuntime agent = mesh.startAgent("agent-0", "site-a", b -> b.downloadRate("12mbit"), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/s.bin");
      LocalMesh.randomFile(content, 4_000_000, 10);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/staging", 1, b -> b);
      await().atMost(Duration.ofSeconds(60)).until(() -> phase(agent, vm, ManifestPhase.PHASE_APPLIED));
      assertEquals(1, agent.stagedApplies(), "applied from the staged files, not assembled at the end");
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          Files.readAllBytes(content), Files.readAllBytes(agent.config().applyDir().resolve("s.bin")));
      assertEquals(2, Files.getAttribute(agent.config().applyDir().resolve("s.bin"), "unix:nlink"),
          "written once: the applied file is the store's file segment (BENCHMARKS 13ak)");
      assertEquals(0, tempFiles(agent.config().applyDir()));
    }
  }

  @Test
  void anAgentWhoseClockIsAheadDoesNotApplyBeforeTheSeedsWindowOpens() throws Exception {
    Instant now = Instant.now();
    java.time.LocalTime start = now.atZone(ZoneOffset.UTC).toLocalTime().plusHours(2).withMinute(0).withSecond(0).withNano(0);
    String window = String.format("daily %02d:00-%02d:00 UTC", start.getHour(), (start.getHour() + 1) % 24);
    // the agent's clock is 2.5 hours fast: by its own clock the window is open
    TestClock fast = new TestClock(now.plus(Duration.ofMinutes(150)));
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      NodeRuntime agent = mesh.startAgent("agent-0", "site-a", b -> b, o -> o.withClock(fast));
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/e.bin");
      LocalMesh.randomFile(content, 50_000, 8);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/skew", 1,
          b -> b.rollout(Rollout.newBuilder().setWindow(window).build()));
      await().atMost(Duration.ofSeconds(60)).until(() -> phase(agent, vm, ManifestPhase.PHASE_WAITING)
          && status(agent, vm).orElseThrow().getReason().contains("off the seed's"));
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
          .until(() -> !phase(agent, vm, ManifestPhase.PHASE_APPLIED));
      JsonNode inv = get(seed, "/api/v1/inventory");
      assertTrue(inv.get(0).path("clockSkewSeconds").asLong() > 8000, "the seed reports the skew: " + inv);
    }
  }

  @Test
  void complianceMatchesAgentsAtDifferentVersionsAfterTheyRejoin() throws Exception {
    try (LocalMesh mesh = mesh(4, false)) {
      SeedNode seed = mesh.seeds().get(0);
      Path content = tmp.resolve("patch/d.bin");
      LocalMesh.randomFile(content, 100_000, 6);
      VerifiedManifest v1 = mesh.publish(seed, content, "fleet/compliance", 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> phase(a, v1, ManifestPhase.PHASE_APPLIED)));
      await().atMost(Duration.ofSeconds(30)).until(() ->
          get(seed, "/api/v1/compliance?channel=fleet/compliance").path("channels").get(0).path("compliant").asInt() == 4);
      // two agents go offline; v2 is published while they are away
      NodeRuntime away1 = mesh.agents().get(2);
      NodeRuntime away2 = mesh.agents().get(3);
      away1.close();
      away2.close();
      LocalMesh.randomFile(content, 100_000, 7);
      VerifiedManifest v2 = mesh.publish(seed, content, "fleet/compliance", 2);
      await().atMost(Duration.ofSeconds(60)).until(() -> phase(mesh.agents().get(0), v2, ManifestPhase.PHASE_APPLIED)
          && phase(mesh.agents().get(1), v2, ManifestPhase.PHASE_APPLIED));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        JsonNode ch = get(seed, "/api/v1/compliance?channel=fleet/compliance").path("channels").get(0);
        return ch.path("desiredVersion").asLong() == 2 && ch.path("compliant").asInt() == 2 && ch.path("behind").asInt() == 2;
      });
      JsonNode ch = get(seed, "/api/v1/compliance?channel=fleet/compliance").path("channels").get(0);
      for (JsonNode a : ch.path("agents")) {
        assertEquals("behind", a.path("status").asText());
        assertEquals(1, a.path("appliedVersion").asInt());
      }
      // they come back and catch up
      mesh.startAgent("agent-2", away1.site());
      mesh.startAgent("agent-3", away2.site());
      await().atMost(Duration.ofSeconds(90)).until(() -> {
        JsonNode c = get(seed, "/api/v1/compliance?channel=fleet/compliance").path("channels").get(0);
        return c.path("compliant").asInt() == 4 && c.path("behind").asInt() == 0;
      });
      JsonNode inv = get(seed, "/api/v1/inventory?label=ring=canary");
      assertEquals(2, inv.size());
      for (JsonNode a : inv) {
        assertFalse(a.path("hostname").asText().isEmpty());
        assertFalse(a.path("arch").asText().isEmpty());
        assertTrue(a.path("freeDiskBytes").asLong() > 0);
      }
      assertEquals(4, get(seed, "/api/v1/inventory").size());
    }
  }
}
