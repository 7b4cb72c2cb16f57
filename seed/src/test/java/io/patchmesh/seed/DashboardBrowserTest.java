package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in a real headless Chromium: a seed and agents in three sites,
 * a rollout over emulated WAN links, the page opened with the token in the URL
 * fragment. Screenshots land in target/ for a person to look at.
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
}
