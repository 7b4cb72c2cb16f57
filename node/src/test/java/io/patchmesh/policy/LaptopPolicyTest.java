package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaptopPolicyTest {
  static final LocalDateTime MON_10 = LocalDateTime.of(2026, 12, 7, 10, 0);
  static final RouteTable VIA_WLAN = RouteTable.parse(
      "h\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", ByteOrder.LITTLE_ENDIAN);

  static PolicyFacts facts(Power power, boolean metered) {
    return new PolicyFacts(power, Map.of("wlan0", 1), VIA_WLAN, metered, MON_10);
  }

  static PolicyConfig config(int minUpload, int minDownload, PolicyConfig.Metered metered, String schedule) {
    PolicyConfig d = PolicyConfig.defaults();
    return new PolicyConfig(minUpload, minDownload, d.vpnInterfaces(), metered, d.meteredInterfaces(), List.of(),
        RateSchedule.parse("rate-schedule", schedule), d.factsRoot());
  }

  @Test
  void onMainsUnmeteredNothingHoldsBack() {
    PolicyVerdict v = new LaptopPolicy(PolicyConfig.defaults()).decide(facts(new Power(false, 90), false));
    assertEquals(PolicyVerdict.FREE, v);
  }

  @Test
  void byDefaultNoUploadsOnBatteryButDownloadsGoOn() {
    PolicyVerdict v = new LaptopPolicy(PolicyConfig.defaults()).decide(facts(new Power(true, 95), false));
    assertFalse(v.mayUpload());
    assertEquals(Downloads.ANY, v.downloads());
    assertEquals(List.of("on battery (95%): uploads off (battery-min-upload-percent: never)"), v.reasons());
  }

  @Test
  void uploadsOnBatteryAboveTheConfiguredCharge() {
    LaptopPolicy p = new LaptopPolicy(config(50, 0, PolicyConfig.Metered.DEFER, ""));
    assertTrue(p.decide(facts(new Power(true, 50), false)).mayUpload());
    PolicyVerdict low = p.decide(facts(new Power(true, 34), false));
    assertFalse(low.mayUpload());
    assertEquals(List.of("on battery 34% < 50%: uploads off"), low.reasons());
  }

  @Test
  void downloadsWaitBelowTheirChargeUnlessUrgent() {
    PolicyVerdict v = new LaptopPolicy(config(PolicyConfig.NEVER, 20, PolicyConfig.Metered.DEFER, ""))
        .decide(facts(new Power(true, 10), false));
    assertEquals(Downloads.URGENT_ONLY, v.downloads());
    assertFalse(v.mayDownload(true, false));
    assertTrue(v.mayDownload(false, true));
  }

  @Test
  void meteredDeferWaitsForAnUnmeteredLinkUnlessUrgent() {
    PolicyVerdict v = new LaptopPolicy(PolicyConfig.defaults()).decide(facts(new Power(false, -1), true));
    assertFalse(v.mayUpload());
    assertEquals(Downloads.URGENT_ONLY, v.downloads());
    assertFalse(v.mayDownload(true, false));
    assertTrue(v.mayDownload(true, true));
    assertEquals(List.of("metered link wlan0: uploads off, downloads wait for an unmetered link (urgent rollouts still fetch)"),
        v.reasons());
  }

  @Test
  void meteredSeedOnlyFetchesFromSeeds() {
    PolicyVerdict v = new LaptopPolicy(config(PolicyConfig.NEVER, 0, PolicyConfig.Metered.SEED_ONLY, ""))
        .decide(facts(Power.MAINS, true));
    assertEquals(Downloads.SEEDS_ONLY, v.downloads());
    assertTrue(v.mayDownload(true, false));
    assertFalse(v.mayDownload(false, true));
    assertEquals(List.of("metered link wlan0: uploads off, downloads from seeds only"), v.reasons());
  }

  @Test
  void meteredIgnoreChangesNothing() {
    assertEquals(PolicyVerdict.FREE, new LaptopPolicy(config(PolicyConfig.NEVER, 0, PolicyConfig.Metered.IGNORE, ""))
        .decide(facts(Power.MAINS, true)));
  }

  @Test
  void theStrictestDownloadRuleWins() {
    PolicyVerdict v = new LaptopPolicy(config(PolicyConfig.NEVER, 50, PolicyConfig.Metered.SEED_ONLY, ""))
        .decide(facts(new Power(true, 10), true));
    assertEquals(Downloads.URGENT_ONLY, v.downloads());
    assertEquals(3, v.reasons().size()); // battery: uploads off; battery: downloads wait; metered
  }

  @Test
  void vpnInterfacesAreNamedAndNotPeeredOver() {
    LaptopPolicy p = new LaptopPolicy(PolicyConfig.defaults());
    PolicyFacts f = new PolicyFacts(Power.MAINS, Map.of("wlan0", 1, "wg0", 65534), VIA_WLAN, false, MON_10);
    assertEquals(List.of("VPN interface wg0 up: no peering over it, seeds still reachable"), p.decide(f).reasons());
    assertFalse(p.mayPeerOver("wg0", 65534));
    assertTrue(p.mayPeerOver("wlan0", 1));
  }

  @Test
  void theScheduleSetsTheCapsOfTheMoment() {
    LaptopPolicy p = new LaptopPolicy(config(PolicyConfig.NEVER, 0, PolicyConfig.Metered.DEFER,
        "Mon-Fri 08:00-18:00 down=2MiB up=512KiB; * 18:00-08:00 down=0 up=0"));
    PolicyVerdict day = p.decide(facts(Power.MAINS, false));
    assertEquals(2 * 1024 * 1024, day.downloadCap());
    assertEquals(512 * 1024, day.uploadCap());
    assertEquals(List.of("rate-schedule 'Mon-Fri 08:00-18:00 down=2MiB up=512KiB': down 2.0 MiB/s, up 512 KiB/s"), day.reasons());
    PolicyVerdict night = p.decide(new PolicyFacts(Power.MAINS, Map.of(), VIA_WLAN, false, MON_10.withHour(22)));
    assertEquals(PolicyVerdict.FREE, night);
  }
}
