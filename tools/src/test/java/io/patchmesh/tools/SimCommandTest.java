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
    assertTrue(a.out().contains("40 nodes in 4 sites, 10% packet loss (lost frames arrive late), seed 7"), a.out());
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
  void lossModelIsDelayByDefaultAndDropOnRequest() {
    JsonNode delay = Cli.ok("sim", "gossip", "--nodes", 40, "--loss", "10%", "--seed", 7, "--idle-s", 0, "--json").json();
    JsonNode drop = Cli.ok("sim", "gossip", "--nodes", 40, "--loss", "10%", "--seed", 7, "--idle-s", 0,
        "--loss-model", "drop", "--json").json();
    assertEquals("delay", delay.get("lossModel").asText());
    assertEquals("drop", drop.get("lossModel").asText());
    assertTrue(!delay.equals(drop), delay + " vs " + drop);
    Cli.Result bad = Cli.run("sim", "gossip", "--nodes", 10, "--loss-model", "udp");
    assertTrue(bad.errLines().get(0).contains("--loss-model"), bad.toString());
  }

  @Test
  void aLoneSeedAndTheConfirmationsAreReported() {
    JsonNode j = Cli.ok("sim", "gossip", "--nodes", 40, "--sites", 4, "--seed", 5, "--lone-seed",
        "--confirmations", 2, "--membership", "lan-agent", "--idle-s", 10, "--json").json();
    assertEquals(5, j.get("sites").asInt(), "four sites and node 0's own");
    assertEquals(39, j.get("killDeadObservers").asInt(), j.toString());
    assertTrue(j.get("killDeadMeanMillis").asLong() <= j.get("killDeadP99Millis").asLong(), j.toString());
    assertEquals(j.get("killDetectedByAllMillis").asLong(), j.get("killDeadWorstMillis").asLong(), j.toString());
    assertTrue(j.get("seedSuspectMillis").asLong() > 0, j.toString());
    assertTrue(j.get("seedDeadMillis").asLong() > j.get("seedSuspectMillis").asLong(), j.toString());
    assertTrue(j.get("seedSiteIdleWanBytesPerSecond").asLong() > 0, j.toString());
    assertTrue(j.get("busiestSiteIdleWanBytesPerSecond").asLong() >= j.get("seedSiteIdleWanBytesPerSecond").asLong(),
        j.toString());
    Cli.Result bad = Cli.run("sim", "gossip", "--nodes", 10, "--confirmations", 17);
    assertEquals("patchmesh: --confirmations: 17 is not within [0, 16]", bad.errLines().get(0), bad.toString());
  }

  @Test
  void badFlagsAreOneLineAndExit2() {
    for (Object[] args : new Object[][] {
        {"sim", "gossip", "--nodes", 2},
        {"sim", "gossip", "--nodes", 10, "--loss", "100%"},
        {"sim", "gossip", "--nodes", 10, "--loss", "lots"},
        {"sim", "gossip", "--nodes", 10, "--sites", 11},
        {"sim", "gossip", "--nodes", 10, "--loss-model", "udp"},
        {"sim", "gossip", "--nodes", 10, "--confirmations", 17},
        {"sim", "gossip", "--nodes", 10, "--confirmations", -1},
    }) {
      Cli.Result r = Cli.run(args);
      assertEquals(Main.USAGE, r.code(), r.toString());
      assertEquals(1, r.errLines().size(), r.toString());
      assertTrue(r.errLines().get(0).startsWith("patchmesh: "), r.toString());
    }
  }

  @Test
  void swarmSameSeedPrintsTheSameJsonAndEveryAgentCompletes() {
    Object[] args = {"sim", "swarm", "--nodes", 40, "--sites", 4, "--size", "8MiB", "--chunk", "256KiB",
        "--down", "50mbit", "--seed", 9, "--corrupt-peers", 1, "--kill", "2@1s", "--json"};
    JsonNode a = Cli.ok(args).json();
    JsonNode b = Cli.ok(args).json();
    ((com.fasterxml.jackson.databind.node.ObjectNode) a).remove(java.util.List.of("wallSeconds", "peakHeapMB"));
    ((com.fasterxml.jackson.databind.node.ObjectNode) b).remove(java.util.List.of("wallSeconds", "peakHeapMB"));
    assertEquals(a, b);
    assertEquals(37, a.get("honest").asInt(), a.toString());
    assertEquals(37, a.get("completed").asInt(), a.toString());
    assertEquals(0, a.get("honestBans").asInt(), a.toString());
    assertTrue(a.get("completionMax").asDouble() >= 1.0, a.toString());
  }

  @Test
  void swarmTakesEveryScenarioFlag() {
    JsonNode a = Cli.ok("sim", "swarm", "--nodes", 40, "--sites", 4, "--size", "8MiB", "--chunk", "256KiB",
        "--down", "50mbit,s1=20mbit", "--up", "s2=500mbit", "--rtt", "60ms", "--rtt", "s3=200ms", "--loss", "1%",
        "--cut", "s0@2s+5s", "--cut", "1@1s+2s", "--slow-sites", 1, "--full-disks", 1, "--rotten-chunks", 5,
        "--corrupt-peers", "5%", "--kill", "5%@1s", "--seed", 4, "--json").json();
    // 2 corrupt, 1 full disk, 2 killed (at random: a killed one may be one of the others)
    assertTrue(a.get("honest").asInt() >= 40 - 2 - 1 - 2, a.toString());
    assertEquals(a.get("honest").asInt(), a.get("completed").asInt(), a.toString());
    assertEquals(0, a.get("honestBans").asInt(), a.toString());
  }

  @Test
  void swarmPlainOutputIsATable() {
    String out = Cli.ok("sim", "swarm", "--nodes", 20, "--sites", 2, "--size", "4MiB", "--chunk", "256KiB").out();
    assertTrue(out.contains("swarm: 20 agents in 2 sites, seed 1"), out);
    assertTrue(out.contains("completed                20 of 20 honest agents"), out);
  }

  @Test
  void swarmCostRunsPrintTheCoresCostPerChunkHandledAfterWarmUp() {
    String out = Cli.ok("sim", "swarm", "--nodes", 6, "--sites", 2, "--size", "2MiB", "--chunk", "64KiB",
        "--cost-runs", 2).out();
    assertTrue(out.contains("completed                6 of 6 honest agents"), out);
    assertEquals(SimSwarmCost.WARM_UP, out.lines().filter(l -> l.startsWith("warm-up: ")).count(), out);
    // 32 chunks to each of 6 agents: every one received once and sent once (duplicates would add to it)
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("round 1: ([0-9,]+) chunks handled").matcher(out);
    assertTrue(m.find(), out);
    assertTrue(Long.parseLong(m.group(1).replace(",", "")) >= 2 * 6 * 32, out);
    assertTrue(out.contains("round 2: "), out);
    assertTrue(out.contains("median of 2: CPU "), out);
  }

  @Test
  void anImpossibleSwarmScenarioExits2NamingTheFlag() {
    Object[][] cases = {
        {"--corrupt-peers", "--nodes", 10, "--corrupt-peers", 10},
        {"--sites", "--nodes", 10, "--sites", 11},
        {"--down", "--nodes", 10, "--down", "-5mbit"},
        {"--down", "--nodes", 10, "--down", "0"},
        {"--kill", "--nodes", 10, "--kill", "lots"},
        {"--kill", "--nodes", 10, "--kill", "10@5s"},
        {"--size", "--nodes", 10, "--size", "1KiB", "--chunk", "1MiB"},
        {"--corrupt-peers", "--nodes", 10, "--corrupt-peers", 11},
        {"--cut", "--nodes", 10, "--sites", 2, "--cut", "s7@20s+60s"},
        {"--cut", "--nodes", 10, "--sites", 2, "--cut", "s1@20s"},
        {"--cut", "--nodes", 10, "--sites", 2, "--cut", "3@1s+1s"},
        {"--down", "--nodes", 10, "--sites", 2, "--down", "s2=10mbit"},
        {"--up", "--nodes", 10, "--sites", 2, "--up", "s1=-1mbit"},
        {"--rtt", "--nodes", 10, "--sites", 2, "--rtt", "s1=0ms"},
        {"--loss", "--nodes", 10, "--loss", "1.5"},
        {"--slow-sites", "--nodes", 10, "--sites", 2, "--slow-sites", "3"},
        {"--full-disks", "--nodes", 10, "--full-disks", "10"},
        {"--wan-buffer", "--nodes", 10, "--wan-buffer", "11s"},
        {"--wan-buffer", "--nodes", 10, "--wan-buffer", "deep"},
    };
    for (Object[] c : cases) {
      Object[] args = new Object[c.length + 1];
      args[0] = "sim";
      args[1] = "swarm";
      System.arraycopy(c, 1, args, 2, c.length - 1);
      Cli.Result r = Cli.run(args);
      assertEquals(Main.USAGE, r.code(), r.toString());
      assertEquals(1, r.errLines().size(), r.toString());
      assertTrue(r.errLines().get(0).contains((String) c[0]), c[0] + ": " + r);
    }
  }
}
