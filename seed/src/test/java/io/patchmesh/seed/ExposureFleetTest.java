package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.proto.AffectedPackage;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Severity;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exposure on a real in-process mesh: an rpm host (a stand-in rpm printing rpm -qa's format) and
 * a host listing software through a command, an OSV advisory for a Red Hat package, fix notices,
 * urgent manifests and the agents' urgency policy, and the Prometheus gauges.
 */
class ExposureFleetTest {
  @TempDir Path tmp;

  private static JsonNode post(SeedNode seed, String path, String body) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .header("Authorization", "Bearer " + seed.node().adminToken().value())
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new ObjectMapper().readTree(r.body());
  }

  private static String metrics(SeedNode seed) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + "/metrics"))
            .header("Authorization", "Bearer " + seed.node().adminToken().value()).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private Path script(String name, String body) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    return f;
  }

  /** A window that is certainly closed now: a short one, three days from today (UTC). */
  private static String closedWindow() {
    DayOfWeek d = ZonedDateTime.now(ZoneOffset.UTC).getDayOfWeek().plus(3);
    return d.getDisplayName(TextStyle.SHORT, Locale.ROOT) + " 01:00-01:05 UTC";
  }

  private static JsonNode cve(SeedNode seed, String id) throws Exception {
    return FleetTest.get(seed, "/api/v1/exposure?cve=" + id).path("cves").get(0);
  }

  @Test
  void rpmHostsAreJudgedByRpmOrderingAndUrgentFixesSkipWindowsOnlyWhereAllowed() throws Exception {
    Path rpm = script("rpm", "printf 'openssl-libs\\t1:3.0.7-24.el9\\nbash\\t(none):5.1.8-9.el9\\n'");
    Path listing = script("list", "echo 'openssl-libs 1:3.0.7-24.el9'; echo 'myapp 2.4.1'");
    String closed = closedWindow();
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      NodeRuntime rpmHost = mesh.startAgent("rpm-host", "site-a",
          b -> b.inventoryCollector("rpm").inventoryCommand(rpm.toString()).window(closed).urgent("apply"), o -> o);
      NodeRuntime cmdHost = mesh.startAgent("cmd-host", "site-b",
          b -> b.inventoryCollector("command").inventoryCommand(listing.toString()).window(closed), o -> o);
      // a collector that hangs: killed at its timeout, reported in the host's inventory; the agent works on
      NodeRuntime hangHost = mesh.startAgent("hang-host", "site-b",
          b -> b.inventoryCollector("command").inventoryCommand("echo 'partial 1.0'; sleep 600").inventoryTimeout("1s"), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 4);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
          FleetTest.get(seed, "/api/v1/inventory/software?package=openssl-libs").path("hosts").size() == 2);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
        for (JsonNode h : FleetTest.get(seed, "/api/v1/inventory/software").path("hosts")) {
          if (h.path("id").asText().equals(hangHost.id().hex())) {
            return h.path("error").asText().contains("timed out") && !h.path("reported").asBoolean();
          }
        }
        return false;
      });
      JsonNode inv = FleetTest.get(seed, "/api/v1/inventory/software");
      for (JsonNode h : inv.path("hosts")) {
        assertTrue(h.path("source").asText().equals("rpm") || h.path("source").asText().equals("command"), h.toString());
      }

      JsonNode imported = post(seed, "/api/v1/advisories", """
          {"id": "RHSA-2024:0001", "aliases": ["CVE-2024-0727"],
           "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
           "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9", "name": "openssl-libs"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]}]}]}
          """);
      assertEquals(1, imported.path("imported").asInt());
      JsonNode c = cve(seed, "CVE-2024-0727");
      assertEquals("critical", c.path("severity").asText());
      assertEquals(1, c.path("exposed").asInt(), "the rpm host; the command host's versions have no ordering: " + c);

      // an urgent fix: the rpm host (urgent: apply) takes it outside its window, the other waits
      Path content = tmp.resolve("fix/openssl.conf");
      Files.createDirectories(content.getParent());
      Files.writeString(content, "fixed\n");
      FixNotice notice = FixNotice.newBuilder().addCves("CVE-2024-0727").setSeverity(Severity.SEVERITY_CRITICAL).setUrgent(true)
          .addAffects(AffectedPackage.newBuilder().setName("myapp").setVersion("2.4.2")).build();
      VerifiedManifest vm = mesh.publish(seed, content, "fix/openssl", 1, b -> b.fixes(notice));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.phase(rpmHost, vm, ManifestPhase.PHASE_APPLIED));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.status(cmdHost, vm).map(s -> s.getPhase() == ManifestPhase.PHASE_WAITING
              && s.getReason().contains("urgent: wait")).orElse(false));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> FleetTest.phase(hangHost, vm, ManifestPhase.PHASE_APPLIED)); // its hung collector cost it nothing
      assertEquals(1, cve(seed, "CVE-2024-0727").path("notReporting").asInt(), "the hung host cannot be judged");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
        JsonNode x = cve(seed, "RHSA-2024:0001");
        return x.path("fixed").asInt() == 1 && x.path("inRollout").asInt() == 0 && x.path("exposed").asInt() == 0;
      });
      // the notice-only --affects never judges a command host (no ordering), so cmd-host is not affected
      JsonNode hosts = FleetTest.get(seed, "/api/v1/exposure/hosts");
      for (JsonNode h : hosts.path("hosts")) {
        assertEquals(0, h.path("openCves").size(), h.toString());
      }
      JsonNode rollout = FleetTest.get(seed, "/api/v1/rollouts/" + vm.id().hex());
      assertTrue(rollout.path("urgent").asBoolean(), rollout.toString());

      Map<String, Double> m = PrometheusText.parse(metrics(seed));
      assertEquals(0.0, m.get("patchmesh_exposed_hosts{severity=\"critical\"}"), m.toString());
      assertEquals(0.0, m.get("patchmesh_inventory_refused{reason=\"oversize\"}"), m.toString());
      assertEquals(2.0, m.get("patchmesh_inventory_hosts"), m.toString());
    }
  }
}
