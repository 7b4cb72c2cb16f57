package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.ChunkId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A laptop that sleeps mid-transfer, with real processes (issue 17, "transfers resume across
 * sleep"): a seed and an agent as separate JVMs over mutual TLS, the agent's downloads capped so
 * a large patch takes seconds. When it holds part of the patch it is frozen (SIGSTOP, what a
 * suspend looks like to its peers) until the seed's membership no longer counts it alive, then
 * resumed (SIGCONT). It finishes from the chunks it holds: the chunk bytes it stores after the
 * resume are what it lacked at the freeze (logged), no chunk twice; the file is byte-identical;
 * and neither side banned the other for the gap.
 */
class SleepResumeProcessTest {
  private static final int FILE_BYTES = 6 * 1024 * 1024;

  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  static void signal(Process p, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, String.valueOf(p.pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + sig);
  }

  /** The state the seed's member list gives the agent with this node id ("" if absent). */
  static String stateAtSeed(String admin, String token, String agentName) throws Exception {
    Cli.Result st = Cli.run("status", "--admin", admin, "--token-file", token, "--json");
    if (st.code() != 0) {
      return "";
    }
    for (JsonNode m : st.json().path("members")) {
      if (m.path("site").asText().equals("home")) {
        return m.path("state").asText();
      }
    }
    return "";
  }

  static double metric(AdminClient api, String name, String label) {
    return AgentKillProcessTest.Scrape.metric(api.getText("/metrics"), name, label);
  }

  @Test
  void aLaptopFrozenMidTransferLongEnoughToBeTimedOutResumesFromWhatItHolds() throws Exception {
    SeedProcess seed = SeedProcess.start(nodes, tmp);
    String admin = seed.admin;
    String token = seed.token;
    Path tls = seed.issue("laptop", "home");

    Path agentLog = tmp.resolve("agent.log");
    Process agent = nodes.spawn(agentLog, seed.agentArgs(tmp.resolve("agent"), tmp.resolve("apply"), tls,
        "--listen", "127.0.0.1:0", "--site", "home", "--download-rate", "8mbit"));
    AdminClient agentApi = new AdminClient(NodeProcesses.awaitLine(agentLog, NodeProcesses.ADMIN), tmp.resolve("agent/admin.token"));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
        .until(() -> "alive".equals(stateAtSeed(admin, token, "laptop")));

    Path v1 = tmp.resolve("v1");
    Files.createDirectories(v1);
    Files.write(v1.resolve("big.bin"), Cli.randomBytes(7, FILE_BYTES));
    long total = SeedProcess.chunkBytes(v1);
    String manifest = seed.publish(v1, 1);

    // asleep mid-transfer: a quarter or more held, the rest not yet
    long quarter = total / 4;
    double[] held = new double[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> (held[0] = metric(agentApi, "patchmesh_chunk_bytes_received_total", "")) >= quarter);
    signal(agent, "STOP"); // at most a few chunks stored since that scrape (1 MB/s): held[0] is a lower bound
    long frozenAt = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
      String state = stateAtSeed(admin, token, "laptop");
      return state.equals("dead") || state.isEmpty(); // timed out by its peer, not merely suspected
    });
    String stateWhileAsleep = stateAtSeed(admin, token, "laptop");
    long asleepMillis = (System.nanoTime() - frozenAt) / 1_000_000;
    signal(agent, "CONT");

    double heldAtFreeze = held[0];
    assertTrue(heldAtFreeze < total * 3 / 4, "the freeze came well before the end of the transfer");
    seed.awaitRollout(manifest, "2m");
    assertArrayEquals(Files.readAllBytes(v1.resolve("big.bin")), Files.readAllBytes(tmp.resolve("apply/big.bin")));

    double stored = metric(agentApi, "patchmesh_chunk_bytes_received_total", "");
    double duplicates = metric(agentApi, "patchmesh_chunks_duplicate_total", "");
    long after = (long) (stored - heldAtFreeze);
    System.out.printf("sleep/resume: patch %d bytes; held >= %d at the freeze; asleep %d ms (seed saw it %s);"
        + " stored <= %d bytes after the resume (lacked <= %d); %d duplicate chunks%n",
        total, (long) heldAtFreeze, asleepMillis, stateWhileAsleep, after, total - (long) heldAtFreeze, (long) duplicates);
    assertEquals(total, (long) stored, "every chunk stored once: after the resume exactly what it lacked");
    assertEquals(0, (long) duplicates, "nothing it held was fetched again");
    assertEquals(0, (long) metric(agentApi, "patchmesh_peers_banned_total", ""), "the laptop banned nobody for the gap");
    assertEquals(0, (long) metric(seed.api, "patchmesh_peers_banned_total", ""), "the seed did not ban the laptop");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
        .until(() -> "alive".equals(stateAtSeed(admin, token, "laptop")));
    assertFalse(Files.readString(agentLog).contains("banning"), "no ban in the laptop's log");
    assertFalse(Files.readString(seed.log).contains("banning"), "no ban in the seed's log");
  }
}
