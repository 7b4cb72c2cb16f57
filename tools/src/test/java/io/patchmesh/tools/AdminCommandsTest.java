package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.seed.SeedNode;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** `status` and `rollout` against a running seed, and their one-line errors. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminCommandsTest {
  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  Path tokenFile;
  VerifiedManifest vm;

  @BeforeAll
  void start() throws Exception {
    tmp = Files.createTempDirectory("admin-cli-test");
    mesh = new LocalMesh(tmp.resolve("mesh"), null, false);
    seed = mesh.startSeed("dc");
    mesh.startAgent("a1", "branch-a");
    mesh.startAgent("b1", "branch-b");
    await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().members().size() == 3);
    tokenFile = seed.node().config().dataDir().resolve("admin.token");
    Path content = tmp.resolve("patch/app.bin");
    LocalMesh.randomFile(content, 1 << 20, 5);
    vm = mesh.publish(seed, content, "test/cli", 1);
  }

  @AfterAll
  void stop() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static void assertOneLine(Cli.Result r, int code, String contains) {
    assertEquals(code, r.code(), r.toString());
    List<String> lines = r.errLines();
    assertEquals(1, lines.size(), r.toString());
    assertTrue(lines.get(0).startsWith("patchmesh: ") && lines.get(0).contains(contains), r.toString());
    assertEquals("", r.out(), r.toString());
  }

  @Test
  void rolloutWaitExitsZeroOnceEveryAgentApplied() {
    Cli.Result r = Cli.ok("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile,
        "--manifest", vm.id().hex(), "--wait", "--timeout", "60s");
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.size() >= 1, r.toString());
    String last = lines.get(lines.size() - 1);
    assertTrue(last.endsWith("done, every targeted agent applied it"), r.toString());
    String summary = lines.get(lines.size() - 2);
    assertTrue(summary.contains("branch-a 100% applied 1/1") && summary.contains("branch-b 100% applied 1/1"),
        "without a terminal: one summary line per change: " + r);
    assertTrue(lines.stream().noneMatch(l -> l.contains("\u001b")), "no escape codes without a terminal");
  }

  @Test
  void rolloutJsonHasSitesAndAgents() {
    await().atMost(Duration.ofSeconds(60)).until(() -> Cli.run("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile,
        "--manifest", vm.id().hex(), "--json").json().path("state").asText().equals("done"));
    JsonNode j = Cli.ok("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile, "--manifest", vm.id().hex(), "--json").json();
    assertEquals(vm.id().hex(), j.path("manifestId").asText());
    assertEquals(2, j.path("sites").size());
    for (JsonNode s : j.path("sites")) {
      for (String f : List.of("site", "agents", "complete", "wanBytes")) {
        assertTrue(s.has(f), f + " in " + s);
      }
    }
    for (JsonNode a : j.path("agents")) {
      for (String f : List.of("id", "site", "state")) {
        assertTrue(a.has(f), f + " in " + a);
      }
    }
    Cli.Result text = Cli.ok("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile, "--manifest", vm.id().hex());
    assertTrue(text.out().contains("branch-a") && text.out().contains("100%"), text.toString());
  }

  @Test
  void longLinesAreCutToTheTerminalSoRedrawsStayInPlace() {
    String fitted = RolloutCommand.fit("short\n" + "x".repeat(200) + "\n", 80);
    List<String> lines = fitted.lines().toList();
    assertEquals(2, lines.size());
    assertEquals("short", lines.get(0));
    assertEquals(79, lines.get(1).length());
    assertTrue(lines.get(1).endsWith("..."));
  }

  @Test
  void statusShowsMembersBySite() {
    Cli.Result r = Cli.ok("status", "--admin", seed.node().adminUrl(), "--token-file", tokenFile);
    assertTrue(r.out().contains("branch-a") && r.out().contains("branch-b") && r.out().contains("dc"), r.toString());
    assertTrue(r.out().contains("seed cluster: none (this seed steers rollouts alone)"), r.toString());
    JsonNode j = Cli.ok("status", "--admin", seed.node().adminUrl(), "--token-file", tokenFile, "--json").json();
    assertEquals(3, j.path("members").size());
    assertEquals(seed.node().id().hex(), j.path("node").path("id").asText());
  }

  @Test
  void unreachableNodeIsOneLineExit1() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + closed;
    assertOneLine(Cli.run("status", "--admin", url, "--token-file", tokenFile), 1, "cannot reach " + url);
    assertOneLine(Cli.run("rollout", "--admin", url, "--token-file", tokenFile, "--manifest", vm.id().hex(), "--wait"), 1, "cannot reach");
  }

  @Test
  void wrongTokenIsOneLineExit2() throws Exception {
    Path wrong = tmp.resolve("wrong.token");
    Files.writeString(wrong, "0123456789abcdef\n");
    assertOneLine(Cli.run("status", "--admin", seed.node().adminUrl(), "--token-file", wrong), 2, "wrong admin token");
    assertOneLine(Cli.run("rollout", "--admin", seed.node().adminUrl(), "--token-file", wrong, "--manifest", vm.id().hex()), 2, "wrong admin token");
    assertOneLine(Cli.run("status", "--admin", seed.node().adminUrl(), "--token-file", tmp.resolve("absent.token")), 2, "absent.token");
  }

  @Test
  void badUrlOrManifestIdIsOneLineExit2() {
    assertOneLine(Cli.run("status", "--admin", "http://", "--token-file", tokenFile), 2, "--admin");
    assertOneLine(Cli.run("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile, "--manifest", "abc"), 2, "--manifest");
    assertOneLine(Cli.run("rollout", "--admin", seed.node().adminUrl(), "--token-file", tokenFile, "--manifest", "ab".repeat(32)), 2, "unknown manifest");
  }
}
