package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.apply.Labels;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.Severity;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real headless Chromium: a seed and agents in three sites,
 * a rollout over emulated WAN links, the page opened with the token in the URL
 * fragment. Screenshots land in target/ for a person to look at.
 *
 * <p>The second test reads the page as an operator does after an advisory: the Exposure section
 * with one CVE's hosts exposed, in rollout, fixed and not reporting (whole fleet and by site),
 * an advisory no patch fixes yet, an urgent rollout marked as such, and a paused rollout with
 * the reason it waits.
 */
class DashboardBrowserTest {
  static final String[] SITES = {"branch-berlin", "branch-lyon", "branch-oslo"};

  @TempDir Path tmp;

  @Test
  void dashboardShowsEverySiteAndReachesFullyApplied() throws Exception {
    assumeTrue(WebDriver.available(),
        "headless browser test skipped: install Debian's chromium and chromium-driver (.ci/run does)");
    WanEmulator wan = new WanEmulator();
    for (String s : SITES) {
      wan.siteMbit(s, 24); // slow enough that the page sees the rollout in progress
    }
    Path shots = Path.of("target", "dashboard");
    Files.createDirectories(shots);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (String s : SITES) {
        for (int i = 1; i <= 2; i++) {
          mesh.startAgent(s + "-" + i, s);
        }
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().members().size() == 7);
      Path content = tmp.resolve("patch/app.bin");
      LocalMesh.randomFile(content, 8 << 20, 3);
      VerifiedManifest vm = mesh.publish(seed, content, "acme/app", 1);

      try (WebDriver browser = new WebDriver(tmp.resolve("profile"), 1280, 900)) {
        browser.navigate(seed.node().adminUrl() + "/#token=" + seed.node().adminToken().value());
        String rollout = "document.querySelector('.rollout[data-manifest=\"" + vm.id().hex() + "\"]')";
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
            .until(() -> browser.script("return " + rollout + " !== null").asBoolean());
        Files.write(shots.resolve("dashboard-progress.png"), browser.screenshot());

        JsonNode sites = browser.script(
            "return Array.from(" + rollout + ".querySelectorAll('tr[data-site]')).map(r => r.dataset.site)");
        Set<String> shown = new TreeSet<>();
        sites.forEach(n -> shown.add(n.asText()));
        assertEquals(Set.of(SITES), shown, "one row per site");
        assertEquals("live", browser.script("return document.getElementById('conn').textContent").asText());
        assertTrue(browser.script("return location.hash").asText().isEmpty(), "the token is taken out of the address bar");

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
            .until(() -> {
              JsonNode r = browser.script(
                  "const r = " + rollout + "; return {applied: r.dataset.applied, targeted: r.dataset.targeted,"
                      + " pcts: Array.from(r.querySelectorAll('tr[data-site] .pct')).map(p => p.textContent)}");
              return r.path("targeted").asInt() == 6 && r.path("applied").asInt() == 6
                  && r.path("pcts").size() == 2 * SITES.length
                  && java.util.stream.StreamSupport.stream(r.path("pcts").spliterator(), false).allMatch(p -> p.asText().equals("100%"));
            });
        browser.script("document.querySelectorAll('details').forEach(d => d.open = true); return true");
        Files.write(shots.resolve("dashboard-done.png"), browser.screenshot());
        String text = browser.script("return document.body.innerText").asText();
        for (String s : SITES) {
          assertTrue(text.contains(s), s + " is on the page");
        }
        assertTrue(text.contains("6/6 agents applied"), text);
      }
    }
  }

  static final String CVE = "CVE-2024-0727";
  static final String AFFECTED = "3.0.2-0ubuntu1.10";
  static final String FIXED = "3.0.2-0ubuntu1.15";

  /** A stand-in for dpkg-query printing its -W -f format: openssl at {@code opensslVersion}, bash. */
  private Path dpkgQuery(String name, String opensslVersion) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, "#!/bin/sh\nprintf 'openssl\\t" + opensslVersion + "\\tii \\nbash\\t5.1-6ubuntu1\\tii \\n'\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    return f;
  }

  private static void importAdvisory(SeedNode seed, String osv) throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(seed.node().adminUrl() + "/api/v1/advisories"))
            .header("Authorization", "Bearer " + seed.node().adminToken().value())
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(osv)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  /** A window that is certainly closed now: five minutes, three days from today (UTC). */
  private static String closedWindow() {
    DayOfWeek d = ZonedDateTime.now(ZoneOffset.UTC).getDayOfWeek().plus(3);
    return d.getDisplayName(TextStyle.SHORT, Locale.ROOT) + " 01:00-01:05 UTC";
  }

  @Test
  void exposureSectionShowsTheCveWithItsCountsAndAPausedRolloutItsReason() throws Exception {
    assumeTrue(WebDriver.available(),
        "headless browser test skipped: install Debian's chromium and chromium-driver (.ci/run does)");
    Path shots = Path.of("target", "dashboard");
    Files.createDirectories(shots);
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      // berlin-1 gets the urgent hotfix (fixed), berlin-2 the paused rollout (in rollout), lyon-1
      // nothing (exposed); lyon-2 already runs a fixed openssl (not affected)
      Map<String, String[]> agents = Map.of(
          "branch-berlin-1", new String[] {"branch-berlin", "canary", AFFECTED},
          "branch-berlin-2", new String[] {"branch-berlin", "early", AFFECTED},
          "branch-lyon-1", new String[] {"branch-lyon", "late", AFFECTED},
          "branch-lyon-2", new String[] {"branch-lyon", "late", FIXED});
      Map<String, NodeRuntime> started = new java.util.TreeMap<>();
      for (Map.Entry<String, String[]> a : new java.util.TreeMap<>(agents).entrySet()) {
        Path dpkg = dpkgQuery("dpkg-query-" + a.getKey(), a.getValue()[2]);
        started.put(a.getKey(), mesh.startAgent(a.getKey(), a.getValue()[0],
            b -> b.inventoryCollector("dpkg").inventoryCommand(dpkg.toString()).labels(Map.of("ring", a.getValue()[1])),
            // a site-mate outside the hotfix's target owns a share of its one chunk until the targeted agent
            // takes it over after a site-wait: 30 s by default, 3 s here
            o -> o.withTransfer(o.transfer().withSiteWait(3_000, 1_500, 12_000))));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 5);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.get(seed, "/api/v1/inventory/software?package=openssl").path("hosts").size() == 4);
      importAdvisory(seed, """
          {"id": "%s", "aliases": ["USN-6622-1"], "summary": "openssl: NULL dereference on malformed PKCS12 files",
           "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
           "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.14"}]}]}]}
          """.formatted(CVE));
      importAdvisory(seed, """
          {"id": "CVE-2022-3715", "summary": "bash: heap overflow in valid_parameter_transform",
           "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H"}],
           "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "bash"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.1-6ubuntu1.1"}]}]}]}
          """);

      Path content = tmp.resolve("fix/openssl.cnf");
      Files.createDirectories(content.getParent());
      Files.writeString(content, "# patched\n");
      FixNotice notice = FixNotice.newBuilder().addCves(CVE).setSeverity(Severity.SEVERITY_CRITICAL).setUrgent(true).build();
      VerifiedManifest hotfix = mesh.publish(seed, content, "acme/openssl-hotfix", 1, b -> b.fixes(notice)
          .rollout(Rollout.newBuilder().addAllTarget(Labels.toLabels(Map.of("ring", "canary"))).build()));
      VerifiedManifest staged = mesh.publish(seed, content, "acme/openssl", 2, b -> b.fixes(notice.toBuilder().setUrgent(false).build())
          .rollout(Rollout.newBuilder().addAllTarget(Labels.toLabels(Map.of("ring", "early"))).setWindow(closedWindow()).build()));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.phase(started.get("branch-berlin-1"), hotfix, ManifestPhase.PHASE_APPLIED)
              && FleetTest.phase(started.get("branch-berlin-2"), staged, ManifestPhase.PHASE_WAITING));
      FleetTest.post(seed, "/api/v1/rollouts/" + staged.id().hex() + "/pause");

      try (WebDriver browser = new WebDriver(tmp.resolve("profile"), 1280, 1000)) {
        browser.navigate(seed.node().adminUrl() + "/#token=" + seed.node().adminToken().value());
        String row = "document.querySelector('#exposure tr[data-cve=\"" + CVE + "\"]')";
        // the section refreshes every 10 s: wait for the counts the fleet has now
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
          JsonNode cells = browser.script("const r = " + row + "; return r === null ? [] : Array.from(r.cells).map(c => c.textContent)");
          return cells.size() == 8 && List.of("1", "1", "1", "0").equals(List.of(cells.get(2).asText(), cells.get(3).asText(),
              cells.get(4).asText(), cells.get(5).asText()));
        });
        JsonNode cells = browser.script("return Array.from(" + row + ".cells).map(c => c.textContent)");
        assertEquals(CVE, cells.get(0).asText());
        assertEquals("critical", cells.get(1).asText(), "the fixing manifests' severity raises the advisory's");
        assertTrue(cells.get(6).asText().contains("acme/openssl-hotfix v1") && cells.get(6).asText().contains("acme/openssl v2"),
            cells.get(6).asText());
        assertTrue(cells.get(7).asText().contains("branch-berlin 0/1/1/0") && cells.get(7).asText().contains("branch-lyon 1/0/0/0"),
            "by site, exposed/in rollout/fixed/not reporting: " + cells.get(7).asText());
        assertFalse(browser.script("return document.getElementById('exposure-section').hidden").asBoolean());
        JsonNode bash = browser.script("return Array.from(document.querySelector('#exposure tr[data-cve=\"CVE-2022-3715\"]').cells).map(c => c.textContent)");
        assertEquals("4", bash.get(2).asText(), "every host runs the affected bash: " + bash);
        assertEquals("no fix published", bash.get(6).asText());

        String card = "document.querySelector('.rollout[data-manifest=\"%s\"]')";
        String paused = browser.script("return " + card.formatted(staged.id().hex()) + ".innerText").asText();
        assertTrue(paused.contains("paused") && paused.contains("paused by the operator"), paused);
        String urgent = browser.script("return " + card.formatted(hotfix.id().hex()) + ".querySelector('h3').innerText").asText();
        assertTrue(urgent.contains("urgent"), urgent);

        browser.script("document.querySelectorAll('details').forEach(d => d.open = true); return true");
        Files.write(shots.resolve("dashboard-rollouts-paused.png"), browser.screenshot());
        browser.script("document.getElementById('exposure-section').scrollIntoView(); return true");
        Files.write(shots.resolve("dashboard-exposure.png"), browser.screenshot());
        String open = browser.script("return document.querySelector('#exposure details').innerText").asText();
        assertTrue(open.contains("branch-lyon") && open.contains(CVE), "lyon-1 is listed with its open CVE: " + open);
      }
    }
  }

  @Test
  void aFollowerSeedSaysWhoSteersAndASeedWithoutZooKeeperSessionWhyDecisionsWait() throws Exception {
    assumeTrue(WebDriver.available(),
        "headless browser test skipped: install Debian's chromium and chromium-driver (.ci/run does)");
    Path shots = Path.of("target", "dashboard");
    Files.createDirectories(shots);
    try (org.apache.curator.test.TestingServer zk = new org.apache.curator.test.TestingServer(true);
        LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      io.patchmesh.seed.cluster.ClusterConfig cfg = io.patchmesh.seed.cluster.ClusterConfig.of(
              io.patchmesh.seed.cluster.ZkConnectString.parse("--zookeeper", zk.getConnectString() + "/fleet"), false)
          .withSessionTimeout(Duration.ofSeconds(3));
      SeedNode seed = mesh.startSeed("seed-1", "dc", o -> o, java.util.Optional.of(cfg));
      mesh.startAgent("branch-oslo-1", "branch-oslo");
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/app.conf");
      Files.createDirectories(content.getParent());
      Files.writeString(content, "v1\n");
      VerifiedManifest vm = mesh.publish(seed, content, "acme/app", 1,
          b -> b.rollout(Rollout.newBuilder().addStagePercent(50).addStagePercent(100).setWindow(closedWindow()).build()));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> seed.rollouts().view(vm.id()).map(v -> v.control().isEmpty()).orElse(false));
      // a second seed of the cluster follows the first: its dashboard says who steers
      SeedNode follower = mesh.startSeed("seed-2", "dc", o -> o, java.util.Optional.of(cfg));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> follower.rollouts().view(vm.id()).map(v -> v.control().startsWith("following leader seed")).orElse(false));
      try (WebDriver browser = new WebDriver(tmp.resolve("profile-2"), 1280, 500)) {
        browser.navigate(follower.node().adminUrl() + "/#token=" + follower.node().adminToken().value());
        String card = "document.querySelector('.rollout[data-manifest=\"" + vm.id().hex() + "\"]')";
        String leader = "following leader seed " + seed.node().id().hex().substring(0, 12);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
            .until(() -> browser.script("const c = " + card + "; return c === null ? '' : c.innerText").asText().contains(leader));
        Files.write(shots.resolve("dashboard-follower.png"), browser.screenshot());
      }
      zk.stop();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.get(seed, "/api/v1/rollouts/" + vm.id().hex()).path("reason").asText().startsWith("decisions wait: no ZooKeeper session"));

      try (WebDriver browser = new WebDriver(tmp.resolve("profile"), 1280, 700)) {
        browser.navigate(seed.node().adminUrl() + "/#token=" + seed.node().adminToken().value());
        String card = "document.querySelector('.rollout[data-manifest=\"" + vm.id().hex() + "\"]')";
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
            .until(() -> browser.script("const c = " + card + "; return c === null ? '' : c.innerText").asText()
                .contains("decisions wait: no ZooKeeper session since"));
        Files.write(shots.resolve("dashboard-no-zookeeper.png"), browser.screenshot());
      }
    }
  }
}
