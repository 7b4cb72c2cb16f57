package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.tools.FleetProcessTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two seed processes share one control plane in a real ZooKeeper server (Debian's package, started
 * and stopped by the test) and four agent processes roll out a three-stage patch. A pause given
 * through one seed holds on the other; the leading seed is killed with SIGKILL mid-rollout; the
 * other takes over, the rollout completes after a resume through it, and no stage was opened
 * twice (every "stage N of 3 open" line in both seeds' logs is distinct).
 */
class SeedClusterProcessTest {
  static final Pattern STAGE_OPEN = Pattern.compile("stage (\\d) of 3 open");

  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();
  private DebianZooKeeper zk;
  private final ObjectMapper json = new ObjectMapper();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
    if (zk != null) {
      zk.close();
    }
  }

  private JsonNode get(String admin, String token, String... args) throws Exception {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(List.of("--admin", admin, "--token-file", token, "--json"));
    Run r = FleetProcessTest.cli(a.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return json.readTree(r.out());
  }

  @Test
  void theLeaderKilledMidRolloutIsReplacedAndNoStageOpensTwice() throws Exception {
    zk = new DebianZooKeeper(tmp.resolve("zk"));
    MeshTrust trust = MeshTrust.create(tmp);

    List<Process> seeds = new ArrayList<>();
    List<String> admins = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    List<Path> logs = new ArrayList<>();
    String mesh = null;
    for (int i = 1; i <= 2; i++) {
      Path tls = trust.issue("seed-" + i, "dc", true);
      Path log = tmp.resolve("seed-" + i + ".log");
      List<String> args = new ArrayList<>(List.of("seed", "--data", tmp.resolve("seed-" + i).toString(),
          "--trust", trust.root().toString(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tls.toString(),
          "--zookeeper", zk.connect() + "/patchmesh-test", "--zookeeper-session-timeout", "3s"));
      if (mesh != null) {
        args.addAll(List.of("--join", mesh));
      }
      seeds.add(nodes.spawn(log, args.toArray(String[]::new)));
      logs.add(log);
      if (mesh == null) {
        mesh = NodeProcesses.awaitLine(log, NodeProcesses.MESH);
      }
      admins.add(NodeProcesses.awaitLine(log, NodeProcesses.ADMIN));
      tokens.add(tmp.resolve("seed-" + i + "/admin.token").toString());
    }
    for (int i = 0; i < 4; i++) {
      String site = i < 2 ? "branch-a" : "branch-b";
      Path tls = trust.issue("agent-" + i, site);
      nodes.spawn(tmp.resolve("agent-" + i + ".log"), "agent", "--data", tmp.resolve("agent-" + i).toString(),
          "--trust", trust.root().toString(), "--listen", "127.0.0.1:0", "--site", site, "--join", mesh,
          "--apply-dir", tmp.resolve("apply-" + i).toString(), "--tls", tls.toString());
    }
    for (int s = 0; s < 2; s++) {
      String admin = admins.get(s);
      String token = tokens.get(s);
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
          .until(() -> get(admin, token, "status").path("members").size() == 6);
    }
    Run plain = FleetProcessTest.cli("status", "--admin", admins.get(1), "--token-file", tokens.get(1));
    assertTrue(plain.out().contains("seed cluster: ZooKeeper " + zk.connect() + "/patchmesh-test, session connected"), plain.out());
    assertTrue(plain.out().contains("[leader]"), plain.out());

    Path content = tmp.resolve("v1");
    Files.createDirectories(content);
    Files.writeString(content.resolve("app.conf"), "version=1\n");
    Run pub = FleetProcessTest.cli("publish", "--key", trust.key() + ".key", "--channel", "app/web", "--version", "1",
        "--stages", "25%,50%,100%", "--seed", admins.get(0), "--token-file", tokens.get(0), "--json", content.toString());
    assertEquals(0, pub.code(), pub.err());
    String id = json.readTree(pub.out()).path("manifestId").asText();
    // paused through the second seed: it holds on the first
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() ->
        FleetProcessTest.cli("rollout", "--admin", admins.get(1), "--token-file", tokens.get(1), "--manifest", id, "--pause").code() == 0);
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300))
        .until(() -> get(admins.get(0), tokens.get(0), "rollout", "--manifest", id).path("state").asText().equals("paused"));
    // every agent holds the patch (waiting, or applied before the pause)
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
      JsonNode r = get(admins.get(1), tokens.get(1), "rollout", "--manifest", id);
      int ready = 0;
      for (JsonNode a : r.path("agents")) {
        ready += a.path("state").asText().matches("waiting|applied") ? 1 : 0;
      }
      return ready == 4;
    });

    int lead = cluster(admins.get(0), tokens.get(0)).path("leads").asBoolean() ? 0 : 1;
    int other = 1 - lead;
    NodeProcesses.kill9(seeds.get(lead));
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
        .until(() -> cluster(admins.get(other), tokens.get(other)).path("leads").asBoolean());
    assertEquals("paused", get(admins.get(other), tokens.get(other), "rollout", "--manifest", id).path("state").asText(),
        "the pause survived the leader");
    Run resume = FleetProcessTest.cli("rollout", "--admin", admins.get(other), "--token-file", tokens.get(other), "--manifest", id, "--resume");
    assertEquals(0, resume.code(), resume.err());
    Run wait = FleetProcessTest.cli("rollout", "--admin", admins.get(other), "--token-file", tokens.get(other), "--manifest", id,
        "--wait", "--timeout", "3m");
    assertEquals(0, wait.code(), wait.err() + wait.out());
    for (int i = 0; i < 4; i++) {
      assertEquals("version=1\n", Files.readString(tmp.resolve("apply-" + i).resolve("app.conf")));
    }
    // `rollout --wait` returns once every agent applied; when stage 2 already admitted all four (agents
    // are admitted by a hash of their id, so that depends on the run's keys) stage 3 opens at the
    // leader's next judgement after that: a second later on a quiet machine, but only while the
    // leader holds its ZooKeeper session (3 s timeout), which a loaded machine can make it lose and
    // win back. So wait on the state itself, the leader's record at stage 3, within the rollout's own
    // bound (the 3 minutes `--wait` was given), not on a log line by a fixed deadline. The leader logs
    // a decision right after its ZooKeeper write and before its view shows it, so once the view says
    // stage 3 its line is in the log.
    AdminClient survivor = new AdminClient(admins.get(other), Path.of(tokens.get(other)));
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
        .until(() -> survivor.get("/api/v1/rollouts/" + id).path("stage").asInt() == 3);
    JsonNode done = survivor.get("/api/v1/rollouts/" + id);
    assertEquals("done", done.path("state").asText(), done.toString());
    assertEquals(3, done.path("stages").asInt(), done.toString());
    List<String> opened = stagesOpened(logs);
    assertEquals(List.of("2", "3"), opened.stream().sorted().toList(), "stages 2 and 3 opened once each: " + opened);
    JsonNode after = cluster(admins.get(other), tokens.get(other));
    assertEquals(1, after.path("seeds").size(), after.toString());
  }

  /** The stages the seeds' logs say they opened, in log order. */
  private static List<String> stagesOpened(List<Path> logs) throws java.io.IOException {
    List<String> opened = new ArrayList<>();
    for (Path log : logs) {
      Matcher m = STAGE_OPEN.matcher(Files.readString(log));
      while (m.find()) {
        opened.add(m.group(1));
      }
    }
    return opened;
  }

  @Test
  void aMalformedConnectStringExitsTwoNamingIt() throws Exception {
    Path root = MeshTrust.publisher(tmp).root();
    for (String bad : List.of("zk1:abc", "zk1:2181,,zk2:2181", "zk1:2181/bad path")) {
      Run r = FleetProcessTest.cli("seed", "--data", tmp.resolve("seed").toString(), "--trust", root.toString(),
          "--site", "dc", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--insecure-plaintext", "--zookeeper", bad);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith("patchmesh: --zookeeper '" + bad + "': "), r.err());
      assertEquals(1, r.err().strip().split("\n").length, r.err());
    }
  }

  private JsonNode cluster(String admin, String token) throws Exception {
    return new AdminClient(admin, Path.of(token)).get("/api/v1/cluster");
  }
}
