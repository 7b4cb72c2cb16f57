package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** {@code patchmesh sim gossip}: a deterministic simulation behind a small command. */
class SimCommandTest {
  @Test
  void sameSeedPrintsTheSameFigures() {
    Cli.Result a = Cli.ok("sim", "gossip", "--nodes", 40, "--loss", "10%", "--seed", 7, "--sites", 4);
    Cli.Result b = Cli.ok("sim", "gossip", "--nodes", 40, "--loss", "0.1", "--seed", 7, "--sites", 4);
    assertEquals(a.out(), b.out());
    assertTrue(a.out().contains("40 nodes in 4 sites, 10% frame loss, seed 7"), a.out());
    assertTrue(a.out().contains("manifest verified by 99.99%"), a.out());
  }

  @Test
  void smallClusterLearnsTheManifestWithoutFalseDeaths() {
    JsonNode j = Cli.ok("sim", "gossip", "--nodes", 30, "--seed", 3, "--json").json();
    assertEquals(30, j.get("nodes").asInt());
    assertEquals(1, j.get("sites").asInt(), "default: N/100 sites, at least one");
    assertTrue(j.get("verified9999Millis").asLong() > 0, j.toString());
    assertTrue(j.get("heard9999Millis").asLong() <= j.get("verified9999Millis").asLong(), j.toString());
    assertTrue(j.get("bytesPerNodePerSecond").asLong() > 0, j.toString());
    assertEquals(0, j.get("falseDeaths").asLong(), j.toString());
    assertTrue(j.get("killDetectedByAllMillis").asLong() > 0, j.toString());
  }

  @Test
  void badFlagsAreOneLineAndExit2() {
    for (Object[] args : new Object[][] {
        {"sim", "gossip", "--nodes", 2},
        {"sim", "gossip", "--nodes", 10, "--loss", "100%"},
        {"sim", "gossip", "--nodes", 10, "--loss", "lots"},
        {"sim", "gossip", "--nodes", 10, "--sites", 11},
    }) {
      Cli.Result r = Cli.run(args);
      assertEquals(Main.USAGE, r.code(), r.toString());
      assertEquals(1, r.errLines().size(), r.toString());
      assertTrue(r.errLines().get(0).startsWith("patchmesh: "), r.toString());
    }
  }
}
