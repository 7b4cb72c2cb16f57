package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A freeze goes noticed: once the newest manifest of a channel an agent holds has expired, the
 * agent says it is stale (status API, metrics, its status report) and the seed's compliance view
 * counts it as stale with the agent's reason.
 */
class StaleAgentTest {
  @TempDir Path tmp;

  @Test
  void anAgentWhoseNewestManifestExpiredIsShownStale() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      mesh.startSeed("dc");
      mesh.startAgent("agent-0", "site-a", b -> b, o -> o);
      SeedNode seed = mesh.seeds().get(0);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/a.bin");
      LocalMesh.randomFile(content, 50_000, 1);
      mesh.publish(seed, content, "fleet/freeze", 1, b -> b.expires(Instant.now().plusSeconds(4)));
      NodeRuntime agent = mesh.agents().get(0);
      await().atMost(Duration.ofSeconds(60)).until(() -> !agent.staleReasons().isEmpty());
      assertTrue(agent.staleReasons().get(0).contains("fleet/freeze"), agent.staleReasons().toString());
      assertTrue(agent.metrics().scrape().contains("patchmesh_stale 1.0"), "metric");
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonNode ch = FleetTest.get(seed, "/api/v1/compliance?channel=fleet/freeze").path("channels").get(0);
        return ch != null && ch.path("stale").asInt() == 1;
      });
      JsonNode row = FleetTest.get(seed, "/api/v1/compliance?channel=fleet/freeze").path("channels").get(0).path("agents").get(0);
      assertEquals(agent.id().hex(), row.path("id").asText());
      assertTrue(row.path("staleReasons").get(0).asText().contains("expired"), row.toString());
      java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(agent.adminUrl() + "/api/v1/status"))
              .header("Authorization", "Bearer " + agent.adminToken().value()).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      JsonNode stale = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("node").path("stale");
      assertTrue(stale.get(0).asText().contains("fleet/freeze"), r.body());
    }
  }
}
