package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.trust.ManifestId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real SIGKILLs during a rollout: a seed and six agents in two sites run as separate JVMs; while
 * the rollout is under way, a randomly chosen agent (seeded, logged) is killed with SIGKILL 20
 * times, each time restarted on the same data directory once it has died. Every agent applies the
 * patch byte for byte; no chunk a store held was lost by a kill; no chunk a store held was ever
 * stored again (a durable counter that survives the kills says so); every store opens afterwards
 * and every chunk in it hashes to its id.
 *
 * <p>Kills are triggered by progress, not time: kill k happens once the fleet as a whole holds
 * a seeded random share around k/20 of 60% of all the chunks it needs, so the run adapts to the
 * machine's speed and every kill falls inside the rollout (at 80% the fleet, with chunk files
 * faster to store, once finished before the 20th kill found an agent still fetching). The victim is drawn (seeded) from the
 * agents still fetching that were killed least so far.
 */
class AgentKillProcessTest {
  private static final long SEED = 20261128L;
  private static final int AGENTS = 6;
  private static final int KILLS = 20;
  // 16 MiB at 5 Mbit/s: ~27 s per agent undisturbed, ~455 chunks per agent; the kills follow fleet
  // progress, so all 20 still land mid-rollout (32 MiB took 137 s of a quiet machine's suite)
  private static final int PATCH_BYTES = 16 << 20;
  private static final String AGENT_RATE = "5mbit";

  /** The agent's log line on completion: times, LAN/WAN bytes and the picker's counters (endgame, timeouts). */
  private static final java.util.regex.Pattern COMPLETE = java.util.regex.Pattern.compile("(complete in .*)");

  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  /** What /metrics said in one life of an agent (the last scrape before it died or stopped). */
  record Scrape(long storeChunks, long received, long duplicatePieces, long newPuts, long duplicatePuts, long lifetimeDuplicatePuts) {
    static Scrape parse(String text) {
      return new Scrape(
          (long) metric(text, "patchmesh_store_chunks", ""),
          (long) metric(text, "patchmesh_chunks_received_total", ""),
          (long) metric(text, "patchmesh_chunks_duplicate_total", ""),
          (long) metric(text, "patchmesh_store_puts", "result=\"new\""),
          (long) metric(text, "patchmesh_store_puts", "result=\"duplicate\""),
          (long) metric(text, "patchmesh_store_duplicate_puts_lifetime", ""));
    }

    /** Sum of every series of {@code name} whose labels contain {@code label}. */
    static double metric(String text, String name, String label) {
      double sum = 0;
      for (String line : text.lines().toList()) {
        if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && line.contains(label)) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    }
  }

  /** One run of an agent process, from start to SIGKILL or to the end of the test. */
  static final class Life {
    final Process process;
    final Path log;
    final long chunksAtStart; // counted in the store before this life began
    AdminClient admin; // null until the process printed its admin address
    Scrape last;
    long chunksAtDeath = -1; // counted in the store after the process died

    Life(Process process, Path log, long chunksAtStart) {
      this.process = process;
      this.log = log;
      this.chunksAtStart = chunksAtStart;
    }
  }

  final class Agent {
    final String name;
    final String site;
    final Path data;
    final Path apply;
    final Path tls;
    final List<Life> lives = new ArrayList<>();

    Agent(int i) {
      name = "agent-" + i;
      site = i < AGENTS / 2 ? "branch-a" : "branch-b";
      data = tmp.resolve(name);
      apply = tmp.resolve("apply-" + i);
      tls = tmp.resolve("tls-" + i);
    }

    Life life() {
      return lives.get(lives.size() - 1);
    }

    void start(Path root, String mesh, long chunksAtStart) throws Exception {
      Path log = tmp.resolve(name + ".life-" + lives.size() + ".log");
      Process p = nodes.spawn(log, "agent", "--data", data.toString(), "--trust", root.toString(),
          "--listen", "127.0.0.1:0", "--site", site, "--join", mesh, "--apply-dir", apply.toString(),
          "--tls", tls.toString(), "--download-rate", AGENT_RATE);
      lives.add(new Life(p, log, chunksAtStart));
    }

    /** Refreshes {@link Life#last} if the current life is up; false if it is not (yet). */
    boolean scrape() throws Exception {
      Life l = life();
      if (l.admin == null) {
        String url = NodeProcesses.firstMatch(l.log, NodeProcesses.ADMIN);
        if (url == null || !l.process.isAlive()) {
          return false;
        }
        l.admin = new AdminClient(url, data.resolve("admin.token"));
      }
      try {
        l.last = Scrape.parse(l.admin.getText("/metrics"));
        return true;
      } catch (RuntimeException e) {
        return false; // not answering right now: the figures of the previous scrape stand
      }
    }

    /** Chunks this agent is known to hold: the last scrape, or the count at its last death. */
    long known() {
      Life l = life();
      long atStart = l.chunksAtStart;
      return l.last == null ? atStart : Math.max(atStart, l.last.storeChunks());
    }
  }

  @Test
  void twentyKill9sDuringARolloutEveryAgentCompletesAndNoVerifiedChunkIsFetchedTwice() throws Exception {
    long began = System.nanoTime();
    String k = tmp.resolve("pub").toString();
    Cli.ok("keygen", "--out", k);
    Path root = tmp.resolve("root.pb");
    Cli.ok("trust", "init", "--publisher", k + ".pub", "--channel", "app/**", "--sign", k + ".key", "--out", root);
    Path ca = tmp.resolve("ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "seed", "--site", "dc", "--role", "seed", "--out", tmp.resolve("tls-seed"));
    Path seedLog = tmp.resolve("seed.log");
    nodes.spawn(seedLog, "seed", "--data", tmp.resolve("seed").toString(), "--trust", root.toString(),
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tmp.resolve("tls-seed").toString());
    String mesh = NodeProcesses.awaitLine(seedLog, NodeProcesses.MESH);
    String seedAdmin = NodeProcesses.awaitLine(seedLog, NodeProcesses.ADMIN);
    String token = tmp.resolve("seed/admin.token").toString();

    List<Agent> agents = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      Agent a = new Agent(i);
      Cli.ok("ca", "issue", "--ca", ca, "--node", a.name, "--site", a.site, "--out", a.tls);
      a.start(root, mesh, 0);
      agents.add(a);
    }
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
      Cli.Result st = Cli.run("status", "--admin", seedAdmin, "--token-file", token, "--json");
      return st.code() == 0 && st.json().path("members").size() == AGENTS + 1;
    });

    Path content = tmp.resolve("v1");
    Files.createDirectories(content);
    Files.write(content.resolve("big.bin"), Cli.randomBytes(SEED, PATCH_BYTES));
    JsonNode pub = Cli.ok("publish", "--key", k + ".key", "--channel", "app/big", "--version", "1",
        "--seed", seedAdmin, "--token-file", token, "--json", content).json();
    String manifest = pub.path("manifestId").asText();
    long chunks = pub.path("chunks").asLong();
    long fleetNeed = AGENTS * chunks;
    System.out.printf("published %d chunks at %.1f s%n", chunks, (System.nanoTime() - began) / 1e9);

    Random random = new Random(SEED);
    long lost = 0;
    // a victim is killed while it fetches, never in its apply: one with fewer than this many chunks
    // to go when it is scraped just before the kill is passed over (an agent that stores its last
    // chunk between that scrape and the kill starts applying, and a kill there is reported as an
    // interrupted apply, not retried in that life: ApplyingMarks)
    long margin = Math.max(8, chunks / 10);
    Predicate<Agent> fetching = a -> a.life().last.storeChunks() < chunks - margin;
    for (int kill = 1; kill <= KILLS; kill++) {
      long threshold = (long) (fleetNeed * 0.6 * (kill - 1 + random.nextDouble()) / KILLS);
      Agent[] picked = new Agent[1];
      await("kill " + kill + " at fleet progress " + threshold + "/" + fleetNeed)
          .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
            List<Agent> candidates = new ArrayList<>();
            long progress = 0;
            for (Agent a : agents) {
              if (a.scrape() && fetching.test(a)) {
                candidates.add(a); // up and still fetching
              }
              progress += a.known();
            }
            if (progress < threshold || candidates.isEmpty()) {
              return false;
            }
            // the victim is drawn from the candidates killed least so far: the kills spread over the
            // fleet, so the agents' restarts overlap instead of one slow agent taking kill after kill
            // (seen at load 40: 14 of 20 kills on one agent, each waiting for its JVM to come back, 365 s)
            int fewest = candidates.stream().mapToInt(a -> a.lives.size()).min().orElseThrow();
            candidates.removeIf(a -> a.lives.size() > fewest);
            Agent v = candidates.get(random.nextInt(candidates.size()));
            picked[0] = v;
            // scraped again as close to the kill as we can get, and still fetching
            return v.scrape() && fetching.test(v);
          });
      Agent victim = picked[0];
      Life l = victim.life();
      NodeProcesses.kill9(l.process);
      l.chunksAtDeath = storedChunks(victim);
      lost += Math.max(0, l.last.storeChunks() - l.chunksAtDeath);
      String line = String.format("%5.1f s kill %2d: %s pid %d, life %d, %d/%d chunks stored before, %d after the kill",
          (System.nanoTime() - began) / 1e9, kill, victim.name, l.process.pid(), victim.lives.size(), l.last.storeChunks(), chunks, l.chunksAtDeath);
      System.out.println(line);
      assertTrue(l.chunksAtDeath >= l.last.storeChunks(), "a chunk the agent reported stored was lost by SIGKILL: " + line);
      victim.start(root, mesh, l.chunksAtDeath);
    }
    long killsDoneMillis = (System.nanoTime() - began) / 1_000_000;
    // rollout --wait counts the agents the mesh holds alive (an agent that is gone must not block a
    // rollout forever), so first let the last restarted agents rejoin
    await("every restarted agent alive again").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> {
          Cli.Result st = Cli.run("status", "--admin", seedAdmin, "--token-file", token, "--json");
          if (st.code() != 0) {
            return false;
          }
          int alive = 0;
          for (JsonNode m : st.json().path("members")) {
            alive += m.path("state").asText().equals("alive") ? 1 : 0;
          }
          return alive == AGENTS + 1;
        });

    Cli.Result wait = Cli.run("rollout", "--admin", seedAdmin, "--token-file", token, "--manifest", manifest,
        "--wait", "--timeout", "3m", "--json");
    assertEquals(0, wait.code(), wait.toString());
    byte[] expected = Files.readAllBytes(content.resolve("big.bin"));
    for (Agent a : agents) {
      assertEquals(-1, Files.mismatch(content.resolve("big.bin"), a.apply.resolve("big.bin")), a.name + " applied other bytes");
      assertEquals(expected.length, Files.size(a.apply.resolve("big.bin")));
      assertTrue(a.scrape(), a.name + " answers after the rollout");
    }
    long rolloutMillis = (System.nanoTime() - began) / 1_000_000;

    // Stop every agent, then read each store in this JVM.
    long fetched = 0;
    long piecesDuplicate = 0;
    for (Agent a : agents) {
      NodeProcesses.stop(a.life().process);
      Life last = a.life();
      last.chunksAtDeath = storedChunks(a);
      long agentFetched = 0;
      for (Life l : a.lives) {
        agentFetched += l.chunksAtDeath - l.chunksAtStart;
        piecesDuplicate += l.last == null ? 0 : l.last.duplicatePieces();
      }
      System.out.printf("%s: %d lives, chunks stored per life %s, duplicate pieces per life %s; last life: %s%n",
          a.name, a.lives.size(), a.lives.stream().map(l -> l.chunksAtDeath - l.chunksAtStart).toList(),
          a.lives.stream().map(l -> l.last == null ? 0 : l.last.duplicatePieces()).toList(),
          NodeProcesses.firstMatch(last.log, COMPLETE));
      assertEquals(chunks, agentFetched, a.name + ": chunks stored over all lives == chunks in the manifest");
      assertEquals(chunks - last.chunksAtStart, last.last.newPuts(), a.name + ": the last life stored exactly what it lacked");
      assertEquals(0, last.last.duplicatePuts(), a.name + ": the last life stored no chunk twice");
      fetched += agentFetched;
      long duplicates = checkStore(a, manifest, chunks);
      assertEquals(0, duplicates, a.name + ": no chunk the store held was ever stored again, over all "
          + a.lives.size() + " lives");
    }
    assertEquals(0, lost);
    int restarts = agents.stream().mapToInt(a -> a.lives.size() - 1).sum();
    System.out.printf("%d kills survived, %d restarts; chunks stored %d == needed %d (%d agents x %d);"
            + " durable duplicate puts 0; stored chunks lost by a kill %d;"
            + " duplicate pieces dropped in-life (endgame, last scrape per life) %d;"
            + " kills done at %.1f s, rollout complete at %.1f s, total %.1f s%n",
        KILLS, restarts, fetched, fleetNeed, AGENTS, chunks, lost, piecesDuplicate,
        killsDoneMillis / 1000.0, rolloutMillis / 1000.0, (System.nanoTime() - began) / 1e9);
    assertEquals(KILLS, restarts);
    assertEquals(fleetNeed, fetched);
  }

  /** Chunks in the agent's store, counted by opening it here (the agent process has exited). */
  private static long storedChunks(Agent a) {
    try (NodeStore s = NodeStore.open(a.data.resolve("store"), StoreConfig.DEFAULTS)) {
      return s.chunks().count();
    }
  }

  /**
   * Opens the store of a stopped agent: it holds exactly the manifest's chunks, each hashing to
   * its id. Returns its durable count of duplicate puts.
   */
  private static long checkStore(Agent a, String manifest, long chunks) throws Exception {
    try (NodeStore s = NodeStore.open(a.data.resolve("store"), StoreConfig.DEFAULTS)) {
      SignedManifest sm = s.manifests().get(ManifestId.fromHex(manifest)).orElse(null);
      assertNotNull(sm, a.name + " keeps the manifest");
      ChunkTable table = ChunkTable.of(Manifest.parseFrom(sm.getManifest()));
      assertEquals(chunks, s.chunks().count(), a.name + " holds the manifest's chunks and nothing else");
      for (int i = 0; i < table.count(); i++) {
        ChunkId id = table.id(i);
        byte[] data = s.chunks().get(id);
        assertNotNull(data, a.name + " lacks chunk " + i);
        assertTrue(id.matches(data), a.name + ": chunk " + i + " does not hash to its id");
      }
      return s.chunks().lifetimeDuplicatePuts();
    }
  }
}
