package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.proto.ManifestPhase;
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
 * A rollout is not "done" because its agents went quiet. Under churn a seed once said "done, every
 * targeted agent applied it" with 36 of 180 applied: agents it had no link to and no report from
 * for 15 s were dropped from "targeted". Here one of two agents crashes before a publish: the
 * other applies it, the seed's clock passes the 15 s, and the rollout stays active with the silent
 * agent counted as targeted and unheard; only a day of silence leaves it out (named as offline), and
 * when it comes back it catches up and is counted again.
 */
class RolloutUnheardTest {
  @TempDir Path tmp;

  @Test
  void anAgentThatFellSilentBeforeApplyingHoldsDoneUpUntilItIsOfflineForADay() throws Exception {
    TestClock clock = new TestClock(Instant.now());
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
      NodeRuntime stays = mesh.startAgent("agent-0", "site-a");
      NodeRuntime drops = mesh.startAgent("agent-1", "site-a");
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3);
      Path v1 = tmp.resolve("patch/v1.bin");
      LocalMesh.randomFile(v1, 200_000, 1);
      VerifiedManifest first = mesh.publish(seed, v1, "fleet/unheard", 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> state(seed, first).equals("done"));

      String dropped = drops.id().hex();
      // the seed holds the agent's own report (applied v1) before it crashes: it is an agent this seed has heard
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        for (JsonNode a : view(seed, first).path("agents")) {
          if (a.path("id").asText().equals(dropped) && a.path("state").asText().equals("applied")) {
            return true;
          }
        }
        return false; // not listed yet: the seed's view may be "done" before it knows the second agent at all
      });
      mesh.kill(drops);
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().transport().links().stream()
          .noneMatch(l -> l.peerId().hex().equals(dropped)));
      Path v2 = tmp.resolve("patch/v2.bin");
      LocalMesh.randomFile(v2, 200_000, 2);
      VerifiedManifest second = mesh.publish(seed, v2, "fleet/unheard", 2);
      await().atMost(Duration.ofSeconds(60)).until(() -> FleetTest.phase(stays, second, ManifestPhase.PHASE_APPLIED)
          && view(seed, second).path("applied").asInt() == 1);

      clock.millis.addAndGet(RolloutStanding.UNHEARD_AFTER_MILLIS + 1_000);
      JsonNode r = view(seed, second);
      assertEquals("active", r.path("state").asText(), "silence is not success: " + r);
      assertEquals(2, r.path("targeted").asInt(), r.toString());
      assertEquals(1, r.path("applied").asInt(), r.toString());
      assertEquals(1, r.path("unheard").asInt(), r.toString());
      assertEquals(1, r.path("sites").get(0).path("unheard").asInt(), r.toString());
      JsonNode row = agentRow(r, dropped);
      assertFalse(row.path("heard").asBoolean(), row.toString());
      assertEquals("pending", row.path("state").asText(), row.toString());
      assertTrue(agentRow(r, stays.id().hex()).path("heard").asBoolean());

      clock.millis.addAndGet(RolloutStanding.OFFLINE_AFTER_MILLIS);
      r = view(seed, second);
      assertEquals("done", r.path("state").asText(), "a day of silence: left out, and named: " + r);
      assertEquals(1, r.path("targeted").asInt(), r.toString());
      assertEquals(1, r.path("offline").asInt(), r.toString());
      assertEquals(0, r.path("unheard").asInt(), r.toString());
      assertEquals("offline", agentRow(r, dropped).path("state").asText());

      NodeRuntime back = mesh.startAgent("agent-1", "site-a");
      assertEquals(dropped, back.id().hex(), "the same agent, restarted from its data directory");
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        JsonNode v = view(seed, second);
        return v.path("applied").asInt() == 2 && v.path("targeted").asInt() == 2 && v.path("offline").asInt() == 0
            && v.path("state").asText().equals("done");
      });
    }
  }

  static JsonNode view(SeedNode seed, VerifiedManifest vm) throws Exception {
    return FleetTest.get(seed, "/api/v1/rollouts/" + vm.id().hex());
  }

  static String state(SeedNode seed, VerifiedManifest vm) throws Exception {
    return view(seed, vm).path("state").asText();
  }

  static JsonNode agentRow(JsonNode r, String id) {
    for (JsonNode a : r.path("agents")) {
      if (a.path("id").asText().equals(id)) {
        return a;
      }
    }
    throw new AssertionError("no row for " + id + " in " + r);
  }
}
