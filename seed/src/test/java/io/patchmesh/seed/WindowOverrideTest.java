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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's maintenance-window override on one seed (its own store) and a real in-process
 * mesh: agents waiting for a closed window — the manifest's and their own — apply once it is
 * overridden; the override is shown, cleared, and bad requests are refused with the reason.
 */
class WindowOverrideTest {
  @TempDir Path tmp;

  static HttpResponse<String> postRaw(SeedNode seed, String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .header("Authorization", "Bearer " + seed.node().adminToken().value())
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void agentsWaitingForAClosedWindowApplyOnceItIsOverridden() throws Exception {
    Instant now = Instant.now();
    int hour = now.atZone(ZoneOffset.UTC).plusHours(2).getHour();
    String window = String.format("daily %02d:00-%02d:00 UTC", hour, (hour + 1) % 24);
    TestClock clock = new TestClock(now);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      List<NodeRuntime> agents = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // agent-0's own window is closed too: the override lifts both
        String own = i == 0 ? window : "";
        agents.add(mesh.startAgent("agent-" + i, "site-a", b -> b.window(own), o -> o.withClock(clock)));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 4);
      Path content = tmp.resolve("patch/c.bin");
      LocalMesh.randomFile(content, 100_000, 5);
      VerifiedManifest vm = mesh.publish(seed, content, "fleet/override", 1,
          b -> b.rollout(Rollout.newBuilder().addStagePercent(50).addStagePercent(100).setWindow(window).build()));
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_WAITING)
          && FleetTest.status(a, vm).orElseThrow().getReason().contains("waiting for window")));
      String path = "/api/v1/rollouts/" + vm.id().hex();

      assertEquals(400, postRaw(seed, path + "/override-window").statusCode(), "no duration");
      assertEquals(400, postRaw(seed, path + "/override-window?for=soon").statusCode());
      assertEquals(400, postRaw(seed, path + "/override-window?for=8d").statusCode(), "at most a week");
      assertEquals(404, postRaw(seed, "/api/v1/rollouts/" + "0".repeat(64) + "/override-window?for=1h").statusCode());
      assertEquals("", FleetTest.get(seed, path).path("windowOverrideUntil").asText(), "refused requests changed nothing");

      JsonNode r = FleetTest.post(seed, path + "/override-window?for=30m");
      assertEquals(Instant.ofEpochMilli(clock.millis() + 30 * 60_000).toString(), r.path("windowOverrideUntil").asText(), r.toString());
      // the clock never reaches the window: the override alone lets each stage's agents apply
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
      for (NodeRuntime a : agents) {
        assertTrue(Files.exists(a.config().applyDir().resolve("c.bin")));
      }
      assertEquals(r.path("windowOverrideUntil").asText(), FleetTest.get(seed, path).path("windowOverrideUntil").asText());
      assertEquals("", FleetTest.post(seed, path + "/clear-window-override").path("windowOverrideUntil").asText());
      assertEquals("", FleetTest.get(seed, path).path("windowOverrideUntil").asText());
    }
  }
}
