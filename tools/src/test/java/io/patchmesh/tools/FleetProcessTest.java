package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet management with real processes: a seed and four agents as separate JVMs
 * running `patchmesh seed|agent` over mutual TLS, driven by the CLI. A staged
 * rollout completes stage by stage; an install command that fails halts the
 * next rollout at its stage and the CLI says why; the operator's abort and the
 * compliance view reflect it.
 */
class FleetProcessTest {
  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @AfterEach
  void stopAll() throws Exception {
    nodes.close(); // SIGTERM: leaves the mesh cleanly
  }

  @Test
  void stagedRolloutOverProcessesAdvancesAndAFailingInstallHaltsIt() throws Exception {
    String k = tmp.resolve("pub").toString();
    assertEquals(0, cli("keygen", "--out", k).code());
    Path root = tmp.resolve("root.pb");
    assertEquals(0, cli("trust", "init", "--publisher", k + ".pub", "--channel", "app/**", "--install", "--sign", k + ".key",
        "--out", root.toString()).code());
    Path ca = tmp.resolve("ca");
    assertEquals(0, cli("ca", "init", "--out", ca.toString()).code());
    assertEquals(0, cli("ca", "issue", "--ca", ca.toString(), "--node", "seed", "--site", "dc", "--role", "seed",
        "--out", tmp.resolve("tls-seed").toString()).code());

    Path seedLog = tmp.resolve("seed.log");
    nodes.spawn(seedLog, "seed", "--data", tmp.resolve("seed").toString(), "--trust", root.toString(),
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tmp.resolve("tls-seed").toString());
    String mesh = NodeProcesses.awaitLine(seedLog, NodeProcesses.MESH);
    String admin = NodeProcesses.awaitLine(seedLog, NodeProcesses.ADMIN);
    String token = tmp.resolve("seed/admin.token").toString();

    List<Path> applyDirs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String site = i < 2 ? "branch-a" : "branch-b";
      Path tls = tmp.resolve("tls-" + i);
      assertEquals(0, cli("ca", "issue", "--ca", ca.toString(), "--node", "agent-" + i, "--site", site,
          "--out", tls.toString()).code());
      Path apply = tmp.resolve("apply-" + i);
      applyDirs.add(apply);
      nodes.spawn(tmp.resolve("agent-" + i + ".log"), "agent", "--data", tmp.resolve("agent-" + i).toString(),
          "--trust", root.toString(), "--listen", "127.0.0.1:0", "--site", site, "--join", mesh,
          "--apply-dir", apply.toString(), "--tls", tls.toString(), "--allow-install-commands");
    }
    ObjectMapper json = new ObjectMapper();
    // a hang guard: every agent reports within seconds on a quiet machine; at load 80-120 (2026-12-04)
    // 90 s was not enough
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
      Run st = cli("status", "--admin", admin, "--token-file", token, "--json");
      return st.code() == 0 && json.readTree(st.out()).path("members").size() == 5;
    });

    // v1: two stages, no failures: --wait returns 0 once all four applied
    Path content = tmp.resolve("v1");
    Files.createDirectories(content);
    Files.writeString(content.resolve("app.conf"), "version=1\n");
    Run pub = cli("publish", "--key", k + ".key", "--channel", "app/web", "--version", "1", "--stages", "50%,100%",
        "--seed", admin, "--token-file", token, "--json", content.toString());
    assertEquals(0, pub.code(), pub.err());
    String v1 = json.readTree(pub.out()).path("manifestId").asText();
    // the seed says when it began announcing (scripts/bench starts a rollout's clock there)
    long announced = json.readTree(pub.out()).path("announcedAtMillis").asLong();
    assertTrue(announced > 0 && announced <= System.currentTimeMillis(), pub.out());
    Run wait = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v1, "--wait", "--timeout", "3m", "--json");
    assertEquals(0, wait.code(), wait.err());
    JsonNode view = json.readTree(wait.out());
    assertEquals(2, view.path("stages").asInt());
    for (Path a : applyDirs) {
      assertEquals("version=1\n", Files.readString(a.resolve("app.conf")));
    }

    // v2: its install command fails everywhere: the rollout halts at its first stage
    Files.writeString(content.resolve("app.conf"), "version=2\n");
    pub = cli("publish", "--key", k + ".key", "--channel", "app/web", "--version", "2", "--stages", "50%,100%",
        "--halt-on-failures", "10%", "--install-cmd", "echo migration failed; exit 3",
        "--seed", admin, "--token-file", token, "--json", content.toString());
    assertEquals(0, pub.code(), pub.err());
    String v2 = json.readTree(pub.out()).path("manifestId").asText();
    wait = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v2, "--wait", "--timeout", "3m");
    assertEquals(1, wait.code(), "a halted rollout ends --wait with 1");
    assertTrue(wait.err().contains("halted") && wait.err().contains("failed"), wait.err());
    Run show = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v2, "--json");
    JsonNode halted = json.readTree(show.out());
    assertEquals("halted", halted.path("state").asText());
    int failed = 0;
    int open = halted.path("openPercent").asInt() * 10;
    for (JsonNode a : halted.path("agents")) {
      int admission = io.patchmesh.apply.RolloutGate.admission(
          io.patchmesh.net.NodeId.fromHex(a.path("id").asText()), io.patchmesh.trust.ManifestId.fromHex(v2));
      String state = a.path("state").asText();
      if (state.equals("failed")) {
        failed++;
        assertEquals(3, a.path("installExit").asInt());
        assertTrue(admission < open, "only agents admitted to the open stage tried it: " + a);
      } else {
        assertTrue(!state.equals("applied"), "nobody applied the failing patch: " + a);
      }
    }
    assertTrue(failed >= 1, "halted on failures: " + halted);

    Run compliance = cli("compliance", "--admin", admin, "--token-file", token, "--channel", "app/web", "--json");
    JsonNode ch = json.readTree(compliance.out()).path("channels").get(0);
    assertEquals(2, ch.path("desiredVersion").asInt());
    // more admitted agents may still finish (and fail) after the halt was read: failures only grow
    assertTrue(ch.path("failed").asInt() >= failed, "compliance counts the failures: " + ch);
    assertEquals(4, ch.path("targeted").asInt());

    Run abort = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v2, "--abort");
    assertEquals(0, abort.code(), abort.err());
    Run unknown = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", "0".repeat(64), "--pause");
    assertEquals(2, unknown.code(), "pause of an unknown manifest is a usage error");
    assertEquals(1, unknown.err().strip().split("\n").length, unknown.err());
    Run inventory = cli("inventory", "--admin", admin, "--token-file", token, "--site", "branch-a", "--json");
    assertEquals(2, json.readTree(inventory.out()).size());
  }
}
