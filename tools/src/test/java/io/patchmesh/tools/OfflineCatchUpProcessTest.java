package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.ManifestBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offline catch-up with real processes (issue 17): a seed and an agent as separate JVMs over
 * mutual TLS. The agent applies v1 and is stopped; v2 (changes files a and c) and v3 (keeps a's
 * change, puts c back as in v1, changes b) are published while it is away; the seed shows it
 * behind by 2 versions with when it was last seen. Restarted on the same data directory, it
 * fetches v3 only: the chunk bytes it stores in its new life equal the bytes of v3's chunks that
 * v1 did not have (so nothing of v2's c, nothing it held), and the seed then shows it current.
 */
class OfflineCatchUpProcessTest {
  private static final int FILE_BYTES = 384 * 1024;

  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  /** Chunk id -> size of every chunk of {@code dir}, chunked the way `publish` does by default (32 KiB average). */
  static Map<ChunkId, Integer> chunks(Path dir) throws Exception {
    Map<ChunkId, Integer> out = new HashMap<>();
    ChunkSink sink = (id, buf, off, len) -> out.put(id, len);
    new ManifestBuilder(ChunkParams.DEFAULT).channel("app/x").version(1).build(List.of(dir), sink, io.patchmesh.content.ProgressListener.NONE);
    return out;
  }

  static void write(Path dir, String name, long seed) throws Exception {
    Files.createDirectories(dir);
    Files.write(dir.resolve(name), Cli.randomBytes(seed, FILE_BYTES));
  }

  Process startAgent(SeedProcess seed, Path tls, int life) throws Exception {
    return nodes.spawn(tmp.resolve("agent-" + life + ".log"), seed.agentArgs(tmp.resolve("agent"), tmp.resolve("apply"), tls,
        "--listen", "127.0.0.1:0", "--site", "home"));
  }

  static JsonNode inventoryRow(String admin, String token) {
    Cli.Result r = Cli.run("inventory", "--admin", admin, "--token-file", token, "--json");
    return r.code() == 0 && r.json().size() == 1 ? r.json().get(0) : null;
  }

  @Test
  void anAgentAwayDuringTwoVersionsFetchesOnlyWhatTheNewestNeedsBeyondWhatItHolds() throws Exception {
    SeedProcess seed = SeedProcess.start(nodes, tmp);
    String admin = seed.admin;
    String token = seed.token;
    Path tls = seed.issue("laptop", "home");

    Path v1 = tmp.resolve("v1");
    write(v1, "a.bin", 1);
    write(v1, "b.bin", 2);
    write(v1, "c.bin", 3);
    Process agent = startAgent(seed, tls, 1);
    NodeProcesses.awaitLine(tmp.resolve("agent-1.log"), NodeProcesses.ADMIN);
    seed.awaitRollout(seed.publish(v1, 1), "3m");
    assertEquals(0, inventoryRow(admin, token).path("behindVersions").asInt());

    NodeProcesses.stop(agent); // the laptop sleeps
    Path v2 = tmp.resolve("v2");
    write(v2, "a.bin", 11);
    Files.copy(v1.resolve("b.bin"), v2.resolve("b.bin"));
    write(v2, "c.bin", 13);
    Path v3 = tmp.resolve("v3");
    Files.createDirectories(v3);
    Files.copy(v2.resolve("a.bin"), v3.resolve("a.bin"));
    write(v3, "b.bin", 12);
    Files.copy(v1.resolve("c.bin"), v3.resolve("c.bin"));
    seed.publish(v2, 2);
    String v3Id = seed.publish(v3, 3);

    JsonNode away = inventoryRow(admin, token);
    assertEquals(2, away.path("behindVersions").asInt(), away.toString());
    assertEquals(1, away.path("behind").get(0).path("appliedVersion").asLong());
    assertEquals(3, away.path("behind").get(0).path("desiredVersion").asLong());
    Cli.Result text = Cli.run("inventory", "--admin", admin, "--token-file", token);
    assertTrue(text.out().contains("behind by 2 versions in app/x (applied v1, desired v3)"), text.out());

    Map<ChunkId, Integer> held = chunks(v1);
    long lacking = 0;
    for (Map.Entry<ChunkId, Integer> c : chunks(v3).entrySet()) {
      if (!held.containsKey(c.getKey())) {
        lacking += c.getValue();
      }
    }
    startAgent(seed, tls, 2); // the laptop wakes
    String agentAdmin = NodeProcesses.awaitLine(tmp.resolve("agent-2.log"), NodeProcesses.ADMIN);
    seed.awaitRollout(v3Id, "3m");
    assertEquals(Files.readAllBytes(v3.resolve("b.bin")).length, Files.size(tmp.resolve("apply/b.bin")));
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(v3.resolve("c.bin")), Files.readAllBytes(tmp.resolve("apply/c.bin"))));

    AdminClient agentApi = new AdminClient(agentAdmin, tmp.resolve("agent/admin.token"));
    String metrics = agentApi.getText("/metrics");
    long fetched = (long) AgentKillProcessTest.Scrape.metric(metrics, "patchmesh_chunk_bytes_received_total", "");
    long duplicate = (long) AgentKillProcessTest.Scrape.metric(metrics, "patchmesh_chunks_duplicate_total", "");
    System.out.printf("offline catch-up: v3 needs %d bytes of chunks v1 lacked; the agent stored %d chunk bytes on return"
        + " (%d duplicate chunks); v2 has %d chunks in all%n", lacking, fetched, duplicate, chunks(v2).size());
    assertEquals(lacking, fetched, "bytes fetched on return = v3's chunks it lacked");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> inventoryRow(admin, token).path("behindVersions").asInt() == 0);
  }
}
