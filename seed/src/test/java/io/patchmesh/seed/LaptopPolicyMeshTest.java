package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Laptop policies on a real mesh (TLS, sockets, stores): a laptop on battery behind a metered link
 * (a directory laid out like /sys and a stand-in nmcli) fetches only the urgent rollout, says so in
 * the seed's inventory, and fetches the rest once it joins a network NetworkManager calls unmetered.
 */
class LaptopPolicyMeshTest {
  @TempDir Path tmp;

  @Test
  void meteredLaptopFetchesOnlyUrgentRolloutsUntilTheLinkIsUnmetered() throws Exception {
    Path facts = tmp.resolve("laptop-facts");
    write(facts.resolve("sys/class/power_supply/AC/type"), "Mains");
    write(facts.resolve("sys/class/power_supply/AC/online"), "0");
    write(facts.resolve("sys/class/power_supply/BAT0/type"), "Battery");
    write(facts.resolve("sys/class/power_supply/BAT0/capacity"), "30");
    write(facts.resolve("sys/class/power_supply/BAT0/status"), "Discharging");
    write(facts.resolve("sys/class/net/wlan0/type"), "1");
    write(facts.resolve("sys/class/net/wlan0/operstate"), "up");
    // default route via wlan0 (little-endian hex, as /proc/net/route prints it)
    write(facts.resolve("proc/net/route"), "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n");
    Path answer = tmp.resolve("metered-answer");
    write(answer, "yes");
    Path nmcli = tmp.resolve("nmcli");
    write(nmcli, "#!/bin/sh\n[ \"$6\" = wlan0 ] && echo \"GENERAL.METERED:$(cat " + answer + ")\"\n");
    Files.setPosixFilePermissions(nmcli, PosixFilePermissions.fromString("rwx------"));

    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      mesh.startSeed("dc");
      NodeRuntime laptop = mesh.startAgent("laptop", "home", b -> b.policyRoot(facts.toString())
          .meteredCommand(nmcli.toString()).batteryMinUploadPercent("50"), o -> o);
      SeedNode seed = mesh.seeds().get(0);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);

      Path app = tmp.resolve("patch/app.bin");
      LocalMesh.randomFile(app, 300_000, 1);
      mesh.publish(seed, app, "fleet/app", 1);
      Path sec = tmp.resolve("patch/sec.bin");
      LocalMesh.randomFile(sec, 200_000, 2);
      mesh.publish(seed, sec, "fleet/sec", 1, b -> b.fixes(FixNotice.newBuilder().setUrgent(true).build()));

      await().atMost(Duration.ofSeconds(60)).until(() -> complete(laptop, "fleet/sec"));
      // the non-urgent one is known (its manifest is small) but none of its chunks came over the metered link
      await().atMost(Duration.ofSeconds(30)).until(() -> status(laptop, "fleet/app") != null);
      assertEquals(0, status(laptop, "fleet/app").getChunksHave());

      await().atMost(Duration.ofSeconds(60)).until(() -> heldBack(seed, laptop).size() == 2);
      List<String> held = heldBack(seed, laptop);
      assertEquals("on battery 30% < 50%: uploads off", held.get(0));
      assertEquals("metered link wlan0: uploads off, downloads wait for an unmetered link (urgent rollouts still fetch)",
          held.get(1));

      // the dashboard's agent rows (the rollouts API) carry the same lines
      await().atMost(Duration.ofSeconds(30)).until(() -> dashboardHeldBack(seed, laptop).equals(held));

      // the laptop moves from the phone's hotspot to the home Wi-Fi: another gateway on wlan0, which
      // NetworkManager calls unmetered (it is asked again at once when the gateway changes)
      write(answer, "no");
      write(facts.resolve("proc/net/route"), "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
          + "wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n");
      await().atMost(Duration.ofSeconds(90)).until(() -> complete(laptop, "fleet/app"));
      await().atMost(Duration.ofSeconds(60)).until(() -> heldBack(seed, laptop).equals(List.of("on battery 30% < 50%: uploads off")));
    }
  }

  private static ManifestStatus status(NodeRuntime agent, String channel) {
    return agent.manifestStatuses().stream().filter(s -> s.getChannel().equals(channel)).findFirst().orElse(null);
  }

  private static boolean complete(NodeRuntime agent, String channel) {
    ManifestStatus s = status(agent, channel);
    return s != null && s.getChunksTotal() > 0 && s.getChunksHave() == s.getChunksTotal()
        && s.getPhase() != ManifestPhase.PHASE_FAILED;
  }

  private static List<String> heldBack(SeedNode seed, NodeRuntime agent) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode row : FleetTest.get(seed, "/api/v1/inventory")) {
      if (row.path("id").asText().equals(agent.id().hex())) {
        row.path("heldBack").forEach(r -> out.add(r.asText()));
      }
    }
    return out;
  }

  private static List<String> dashboardHeldBack(SeedNode seed, NodeRuntime agent) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode rollout : FleetTest.get(seed, "/api/v1/rollouts")) {
      if (rollout.path("channel").asText().equals("fleet/app")) {
        for (JsonNode row : rollout.path("agents")) {
          if (row.path("id").asText().equals(agent.id().hex())) {
            row.path("heldBack").forEach(r -> out.add(r.asText()));
          }
        }
      }
    }
    return out;
  }

  private static void write(Path file, String text) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }
}
