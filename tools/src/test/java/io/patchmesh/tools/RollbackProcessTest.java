package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seed and three agents as separate JVMs, each agent started with a secret PATCHMESH_TOKEN in
 * its environment. v1 ships bin/tool; v2 drops it (every agent deletes it) and its install hook
 * dumps its environment (no token in it); v3's install hook fails: every agent puts v2's files
 * back byte for byte and reports failed, "rolled back".
 */
class RollbackProcessTest {
  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();
  private final ObjectMapper json = new ObjectMapper();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  @Test
  void v2RemovesAFileAndAFailingInstallOfV3RollsEveryAgentBackToV2() throws Exception {
    String k = tmp.resolve("pub").toString();
    Cli.ok("keygen", "--out", k);
    Path root = tmp.resolve("root.pb");
    Cli.ok("trust", "init", "--publisher", k + ".pub", "--channel", "app/*", "--paths", "bin/**", "--paths", "etc/app/**",
        "--install", "--sign", k + ".key", "--out", root);
    Path ca = tmp.resolve("ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "seed", "--site", "dc", "--role", "seed", "--out", tmp.resolve("tls-seed"));
    Path seedLog = tmp.resolve("seed.log");
    nodes.spawn(seedLog, "seed", "--data", tmp.resolve("seed").toString(), "--trust", root.toString(),
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tmp.resolve("tls-seed").toString());
    String mesh = NodeProcesses.awaitLine(seedLog, NodeProcesses.MESH);
    String admin = NodeProcesses.awaitLine(seedLog, NodeProcesses.ADMIN);
    String token = tmp.resolve("seed/admin.token").toString();
    List<Path> applyDirs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path apply = tmp.resolve("apply-" + i);
      applyDirs.add(apply);
      Path tls = tmp.resolve("tls-" + i);
      Cli.ok("ca", "issue", "--ca", ca, "--node", "agent-" + i, "--site", "branch", "--out", tls);
      nodes.spawn(Map.of("PATCHMESH_TOKEN", "secret-admin-token"), tmp.resolve("agent-" + i + ".log"), "agent",
          "--data", tmp.resolve("agent-" + i).toString(), "--trust", root.toString(), "--listen", "127.0.0.1:0",
          "--site", "branch", "--join", mesh, "--apply-dir", apply.toString(), "--allow-install-commands",
          "--tls", tls.toString());
    }
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
      Cli.Result st = Cli.run("status", "--admin", admin, "--token-file", token, "--json");
      return st.code() == 0 && json.readTree(st.out()).path("members").size() == 4;
    });

    Path content = Files.createDirectories(tmp.resolve("content"));
    Files.createDirectories(content.resolve("bin"));
    Files.createDirectories(content.resolve("etc/app"));
    Files.write(content.resolve("bin/tool"), Cli.randomBytes(1, 300_000));
    Files.write(content.resolve("etc/app/app.conf"), Cli.randomBytes(2, 5_000));
    String v1 = publish(k, 1, content, admin, token);
    waitApplied(v1, admin, token);
    for (Path a : applyDirs) {
      assertTrue(Files.exists(a.resolve("bin/tool")));
    }

    Files.delete(content.resolve("bin/tool"));
    Files.write(content.resolve("etc/app/app.conf"), Cli.randomBytes(3, 7_000));
    Files.write(content.resolve("bin/newtool"), Cli.randomBytes(4, 100_000));
    String v2 = publish(k, 2, content, admin, token, "--install-cmd", "env > \"$PATCHMESH_APPLY_DIR.env\"");
    waitApplied(v2, admin, token);
    Map<String, byte[]> v2Files = Map.of("etc/app/app.conf", Files.readAllBytes(content.resolve("etc/app/app.conf")),
        "bin/newtool", Files.readAllBytes(content.resolve("bin/newtool")));
    for (Path a : applyDirs) {
      assertFalse(Files.exists(a.resolve("bin/tool")), "v2 dropped bin/tool: " + a);
      String env = Files.readString(Path.of(a + ".env"));
      assertFalse(env.contains("PATCHMESH_TOKEN") || env.contains("secret-admin-token"), env);
      assertTrue(env.contains("PATCHMESH_APPLY_DIR=" + a.toRealPath()), env);
    }

    Files.write(content.resolve("etc/app/app.conf"), Cli.randomBytes(5, 9_000));
    Files.write(content.resolve("bin/v3only"), Cli.randomBytes(6, 50_000));
    String v3 = publish(k, 3, content, admin, token, "--install-cmd", "echo migration failed; exit 5");
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() -> {
      JsonNode view = json.readTree(Cli.ok("rollout", "--admin", admin, "--token-file", token, "--manifest", v3, "--json").out());
      int failed = 0;
      for (JsonNode a : view.path("agents")) {
        if (a.path("state").asText().equals("failed")) {
          failed++;
          assertEquals(5, a.path("installExit").asInt());
          assertTrue(a.path("reason").asText().contains("rolled back to version 2"), a.toString());
        }
      }
      return failed == 3;
    });
    for (Path a : applyDirs) {
      assertEquals(v2Files.keySet(), Cli.tree(a).stream().filter(p -> !p.endsWith("/")).collect(java.util.stream.Collectors.toSet()),
          "exactly v2's files: " + a);
      for (Map.Entry<String, byte[]> f : v2Files.entrySet()) {
        assertArrayEquals(f.getValue(), Files.readAllBytes(a.resolve(f.getKey())), a + "/" + f.getKey());
      }
    }
  }

  private String publish(String k, int version, Path content, String admin, String token, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("publish", "--key", k + ".key", "--channel", "app/web", "--version",
        Integer.toString(version), "--seed", admin, "--token-file", token, "--json"));
    args.addAll(List.of(extra));
    args.add(content.toString());
    Cli.Result r = Cli.ok(args.toArray());
    return json.readTree(r.out()).path("manifestId").asText();
  }

  private void waitApplied(String id, String admin, String token) {
    Cli.Result wait = Cli.run("rollout", "--admin", admin, "--token-file", token, "--manifest", id, "--wait", "--timeout", "3m");
    assertEquals(0, wait.code(), wait.err());
  }
}
