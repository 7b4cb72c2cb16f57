package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exposure with real processes: a seed and three agents (separate JVMs, mutual TLS) whose software
 * inventories come from this machine's real dpkg-query. An OSV advisory covering the installed
 * dpkg makes all three exposed; a fix rolled out to two of them by label leaves one exposed, in
 * its site; the third applying a later version closes it.
 */
@EnabledIf("dpkgPresent")
class ExposureProcessTest {
  @TempDir Path tmp;
  private final NodeProcesses nodes = new NodeProcesses();
  private final ObjectMapper json = new ObjectMapper();

  static boolean dpkgPresent() {
    return Files.isExecutable(Path.of("/usr/bin/dpkg-query"));
  }

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  private static FleetProcessTest.Run cli(String... args) {
    return FleetProcessTest.cli(args);
  }

  private static String installedDpkgVersion() throws Exception {
    Process p = new ProcessBuilder("dpkg-query", "-W", "-f", "${Version}", "dpkg").start();
    String v = new String(p.getInputStream().readAllBytes()).trim();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return v;
  }

  private JsonNode exposure(String admin, String token, String cve) throws Exception {
    FleetProcessTest.Run r = cli("exposure", "--admin", admin, "--token-file", token, "--cve", cve, "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode cves = json.readTree(r.out()).path("cves");
    assertEquals(1, cves.size(), r.out());
    return cves.get(0);
  }

  private static JsonNode site(JsonNode cve, String name) {
    for (JsonNode s : cve.path("sites")) {
      if (s.path("site").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no site " + name + " in " + cve);
  }

  @Test
  void osvAdvisoryExposesEveryHostAndFixesRolledOutByLabelCloseIt() throws Exception {
    String k = tmp.resolve("pub").toString();
    assertEquals(0, cli("keygen", "--out", k).code());
    Path root = tmp.resolve("root.pb");
    assertEquals(0, cli("trust", "init", "--publisher", k + ".pub", "--channel", "fix/**", "--sign", k + ".key",
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

    // agents 0 and 1 in branch-a, agent 2 in branch-b; agents 0 and 2 are ring=early
    String[] sites = {"branch-a", "branch-a", "branch-b"};
    String[] rings = {"early", "late", "early"};
    List<Path> applyDirs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path tls = tmp.resolve("tls-" + i);
      assertEquals(0, cli("ca", "issue", "--ca", ca.toString(), "--node", "agent-" + i, "--site", sites[i],
          "--out", tls.toString()).code());
      Path apply = tmp.resolve("apply-" + i);
      applyDirs.add(apply);
      nodes.spawn(tmp.resolve("agent-" + i + ".log"), "agent", "--data", tmp.resolve("agent-" + i).toString(),
          "--trust", root.toString(), "--listen", "127.0.0.1:0", "--site", sites[i], "--join", mesh,
          "--apply-dir", apply.toString(), "--tls", tls.toString(), "--label", "ring=" + rings[i],
          "--inventory-collector", "dpkg");
    }
    String installed = installedDpkgVersion();
    // a hang guard (seconds on a quiet machine; 120 s was missed at load 80-120, 2026-12-04)
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(() -> {
      FleetProcessTest.Run r = cli("inventory", "--software", "--package", "dpkg", "--admin", admin, "--token-file", token, "--json");
      return r.code() == 0 && json.readTree(r.out()).path("hosts").size() == 3;
    });
    FleetProcessTest.Run inv = cli("inventory", "--software", "--package", "dpkg", "--admin", admin, "--token-file", token, "--json");
    for (JsonNode h : json.readTree(inv.out()).path("hosts")) {
      assertEquals(installed, h.path("version").asText(), "the real dpkg-query's answer reached the seed: " + h);
    }

    // a malformed file is refused before anything is sent, naming the entry and field
    Path bad = tmp.resolve("bad.json");
    Files.writeString(bad, "[{\"id\": \"CVE-2099-0002\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"dpkg\"},"
        + " \"ranges\": [{\"events\": [{\"introduced\": \"0\"}]}]}]}]");
    FleetProcessTest.Run badImport = cli("advisories", "import", "--admin", admin, "--token-file", token, bad.toString());
    assertEquals(2, badImport.code());
    assertTrue(badImport.err().contains("entry 1 (CVE-2099-0002)") && badImport.err().contains("affected[0].ranges[0]")
        && badImport.err().contains("type"), badImport.err());

    // the advisory covers the installed dpkg; a second one in a syntax nobody orders is kept but never matched
    Path osv = tmp.resolve("osv.json");
    Files.writeString(osv, "{\"vulns\": ["
        + "{\"id\": \"CVE-2099-0001\", \"aliases\": [\"DSA-9999-1\"], \"database_specific\": {\"severity\": \"HIGH\"},"
        + " \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"dpkg\"},"
        + " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"" + installed + "+fix1\"}]}]}]},"
        + "{\"id\": \"CVE-2099-0003\", \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"dpkg\"},"
        + " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"not a version\"}]}]}]}"
        + "]}");
    FleetProcessTest.Run imp = cli("advisories", "import", "--admin", admin, "--token-file", token, osv.toString());
    assertEquals(0, imp.code(), imp.err());
    assertTrue(imp.out().contains("CVE-2099-0003") && imp.out().contains("range not understood"), imp.out());

    JsonNode before = exposure(admin, token, "DSA-9999-1"); // asked for by its alias
    assertEquals("CVE-2099-0001", before.path("id").asText());
    assertEquals(List.of("id", "aliases", "severity", "exposed", "fixed", "inRollout", "notReporting", "sites"), fields(before));
    assertEquals("high", before.path("severity").asText());
    assertEquals(3, before.path("exposed").asInt(), "exposed, no fix published: " + before);
    assertEquals(0, before.path("fixed").asInt());
    JsonNode never = exposure(admin, token, "CVE-2099-0003");
    assertEquals(0, never.path("exposed").asInt(), "a range not understood is never matched: " + never);

    // the fix goes to ring=early only: agent 0 (branch-a) and agent 2 (branch-b)
    Path content = tmp.resolve("fix");
    Files.createDirectories(content);
    Files.writeString(content.resolve("dpkg-hotfix.conf"), "patched=1\n");
    FleetProcessTest.Run pub = cli("publish", "--key", k + ".key", "--channel", "fix/dpkg", "--version", "1",
        "--target", "ring=early", "--fixes", "CVE-2099-0001", "--severity", "high", "--affects", "dpkg<" + installed + "+fix1",
        "--seed", admin, "--token-file", token, "--json", content.toString());
    assertEquals(0, pub.code(), pub.err());
    String v1 = json.readTree(pub.out()).path("manifestId").asText();
    FleetProcessTest.Run wait = cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v1, "--wait", "--timeout", "3m");
    assertEquals(0, wait.code(), wait.err());
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> exposure(admin, token, "CVE-2099-0001").path("fixed").asInt() == 2);
    JsonNode after = exposure(admin, token, "CVE-2099-0001");
    assertEquals(1, after.path("exposed").asInt(), after.toString());
    assertEquals(0, after.path("inRollout").asInt(), after.toString());
    assertEquals(1, site(after, "branch-a").path("fixed").asInt(), after.toString());
    assertEquals(1, site(after, "branch-a").path("exposed").asInt(), after.toString());
    assertEquals(1, site(after, "branch-b").path("fixed").asInt(), after.toString());
    assertEquals(0, site(after, "branch-b").path("exposed").asInt(), after.toString());
    FleetProcessTest.Run hosts = cli("exposure", "--hosts", "--admin", admin, "--token-file", token, "--json");
    int open = 0;
    for (JsonNode h : json.readTree(hosts.out()).path("hosts")) {
      open += h.path("openCves").size();
    }
    assertEquals(1, open, "one host still has CVE-2099-0001 open: " + hosts.out());

    // v2 goes to everyone: the third host applies it too
    FleetProcessTest.Run pub2 = cli("publish", "--key", k + ".key", "--channel", "fix/dpkg", "--version", "2",
        "--fixes", "CVE-2099-0001", "--severity", "high", "--seed", admin, "--token-file", token, "--json", content.toString());
    assertEquals(0, pub2.code(), pub2.err());
    String v2 = json.readTree(pub2.out()).path("manifestId").asText();
    assertEquals(0, cli("rollout", "--admin", admin, "--token-file", token, "--manifest", v2, "--wait", "--timeout", "3m").code());
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
        .until(() -> exposure(admin, token, "CVE-2099-0001").path("exposed").asInt() == 0);
    JsonNode done = exposure(admin, token, "CVE-2099-0001");
    assertEquals(3, done.path("fixed").asInt(), done.toString());
    for (Path a : applyDirs) {
      assertEquals("patched=1\n", Files.readString(a.resolve("dpkg-hotfix.conf")));
    }
    String metrics = FleetProcessTest.cli("exposure", "--admin", admin, "--token-file", token, "--severity", "critical", "--json").out();
    assertEquals(0, json.readTree(metrics).path("cves").size(), "no critical advisory: " + metrics);
  }

  private static List<String> fields(JsonNode n) {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }
}
