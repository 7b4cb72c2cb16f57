package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver against a directory laid out like / (the readers' roots) and a stand-in nmcli. */
class PolicyWatchTest {
  @TempDir Path dir;

  // Monday 2026-12-07 10:00 UTC
  private final Clock clock = Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC);

  private PolicyConfig config(List<String> nmcli) {
    PolicyConfig d = PolicyConfig.defaults();
    return new PolicyConfig(40, 0, d.vpnInterfaces(), PolicyConfig.Metered.DEFER, InterfacePatterns.none(), nmcli,
        RateSchedule.parse("rate-schedule", "Mon-Fri 08:00-18:00 down=2MiB up=512KiB"), d.factsRoot());
  }

  private FakeSys laptop() {
    return new FakeSys(dir).iface("wlan0", 1, "up").iface("tun0", 65534, "unknown")
        .routes("wlan0 0.0.0.0/0 192.168.1.1 600", "wlan0 192.168.1.0/24 0.0.0.0 600", "tun0 10.0.0.0/8 0.0.0.0 50");
  }

  @Test
  void readsTheFactsAndHoldsBackAsConfigured() {
    laptop().mains(false).battery(34, "Discharging");
    try (PolicyWatch w = new PolicyWatch(config(List.of()), PolicySources.under(dir), clock, ZoneId.of("UTC"))) {
      PolicyVerdict v = w.verdict();
      assertFalse(v.mayUpload());
      assertEquals(2 * 1024 * 1024, w.downloadCap());
      assertEquals(512 * 1024, w.uploadCap());
      assertEquals(List.of("on battery 34% < 40%: uploads off",
          "VPN interface tun0 up: no peering over it, seeds still reachable",
          "rate-schedule 'Mon-Fri 08:00-18:00 down=2MiB up=512KiB': down 2.0 MiB/s, up 512 KiB/s"), w.reasons());
    }
  }

  @Test
  void refusesToDialPeersRoutedOverTheVpn() throws Exception {
    laptop();
    try (PolicyWatch w = new PolicyWatch(config(List.of()), PolicySources.under(dir), clock, ZoneId.of("UTC"))) {
      assertEquals("laptop policy: no peering over VPN interface tun0 (vpn-interfaces)",
          w.refuseDial(new InetSocketAddress(InetAddress.getByName("10.20.30.40"), 7700)));
      assertNull(w.refuseDial(new InetSocketAddress(InetAddress.getByName("192.168.1.20"), 7700)));
      assertNull(w.refuseDial(InetSocketAddress.createUnresolved("peer.example", 7700)));
      // a link to a seed stays up whatever the interface
      assertNull(w.refuseLink(new InetSocketAddress(InetAddress.getByName("10.1.1.1"), 1234), Set.of(Role.ROLE_SEED)));
    }
  }

  @Test
  void tellsListenersWhenThePolicyChanges() throws Exception {
    FakeSys sys = laptop().mains(true).battery(90, "Charging");
    Path nmcli = dir.resolve("nmcli");
    Path answer = dir.resolve("metered-answer");
    Files.writeString(answer, "no");
    Files.writeString(nmcli, "#!/bin/sh\necho \"GENERAL.METERED:$(cat " + answer + ")\"\n");
    Files.setPosixFilePermissions(nmcli, PosixFilePermissions.fromString("rwx------"));
    try (PolicyWatch w = new PolicyWatch(config(List.of(nmcli.toString())), PolicySources.under(dir), clock, ZoneId.of("UTC"))) {
      AtomicInteger changes = new AtomicInteger();
      w.onChange(changes::incrementAndGet);
      assertTrue(w.verdict().mayUpload());
      w.refresh();
      assertEquals(0, changes.get());

      // the laptop joins a phone's hotspot on the same Wi-Fi interface: a new gateway asks again
      Files.writeString(answer, "yes");
      sys.routes("wlan0 0.0.0.0/0 172.20.10.1 600", "wlan0 172.20.10.0/28 0.0.0.0 600");
      w.refresh();
      assertEquals(1, changes.get());
      assertEquals(Downloads.URGENT_ONLY, w.verdict().downloads());
      assertTrue(w.reasons().contains(
          "metered link wlan0: uploads off, downloads wait for an unmetered link (urgent rollouts still fetch)"));

      Files.writeString(answer, "no");
      sys.routes("wlan0 0.0.0.0/0 192.168.1.1 600", "wlan0 192.168.1.0/24 0.0.0.0 600");
      sys.mains(false);
      w.refresh();
      assertEquals(2, changes.get());
      assertEquals(Downloads.ANY, w.verdict().downloads());
      assertTrue(w.verdict().mayUpload()); // on battery, but 90% >= battery-min-upload-percent 40
    }
  }

  @Test
  void meteredIgnoreNeverAsksNetworkManager() throws Exception {
    laptop();
    Path nmcli = dir.resolve("nmcli");
    Path calls = dir.resolve("calls");
    Files.writeString(nmcli, "#!/bin/sh\necho x >> " + calls + "\necho GENERAL.METERED:yes\n");
    Files.setPosixFilePermissions(nmcli, PosixFilePermissions.fromString("rwx------"));
    PolicyConfig d = config(List.of(nmcli.toString()));
    PolicyConfig ignore = new PolicyConfig(d.batteryMinUploadPercent(), d.batteryMinDownloadPercent(), d.vpnInterfaces(),
        PolicyConfig.Metered.IGNORE, d.meteredInterfaces(), d.meteredCommand(), d.rateSchedule(), d.factsRoot());
    try (PolicyWatch w = new PolicyWatch(ignore, PolicySources.under(dir), clock, ZoneId.of("UTC"))) {
      w.refresh();
      assertTrue(w.verdict().mayUpload());
      assertFalse(Files.exists(calls));
    }
  }

  @Test
  void aMachineWithNothingToReadIsFree() {
    try (PolicyWatch w = new PolicyWatch(PolicyConfig.defaults(), PolicySources.under(dir.resolve("empty")), clock,
        ZoneId.of("UTC"))) {
      assertEquals(PolicyVerdict.FREE, w.verdict());
    }
  }
}
