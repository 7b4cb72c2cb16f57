package io.patchmesh.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.policy.InterfacePatterns;
import io.patchmesh.policy.PolicyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The laptop and shared-link policy keys (issue 17): defaults, values, and one-line errors. */
class LaptopConfigTest {
  @TempDir Path tmp;

  private NodeConfig build(String yaml) throws Exception {
    Path f = tmp.resolve("node.yaml");
    Files.writeString(f, "data: /d\ntrust: /t\nsite: s\ntls: /tls\njoin: [seed:7700]\napply-dir: /a\n" + yaml);
    return new NodeConfig.Builder().file(ConfigFile.read(f)).build(true);
  }

  @Test
  void defaultsAreNoUploadsOnBatteryVpnPatternsAndDeferOnMeteredLinks() throws Exception {
    PolicyConfig p = build("").policy();
    assertEquals(PolicyConfig.NEVER, p.batteryMinUploadPercent());
    assertEquals(0, p.batteryMinDownloadPercent());
    assertEquals(InterfacePatterns.VPN_DEFAULTS, p.vpnInterfaces().source());
    assertEquals(PolicyConfig.Metered.DEFER, p.metered());
    assertTrue(p.meteredInterfaces().isEmpty());
    assertEquals(List.of("nmcli"), p.meteredCommand());
    assertTrue(p.rateSchedule().rules().isEmpty());
    assertEquals("ledbat", build("").wanYield());
    assertEquals("off", build("wan-yield: off\n").wanYield());
    assertEquals("ledbat", build("").uploadYield(), "a seed paces the WAN requesters that do not pace themselves");
    assertEquals("off", build("upload-yield: off\n").uploadYield());
  }

  @Test
  void everyKeyIsRead() throws Exception {
    PolicyConfig p = build("battery-min-upload-percent: 50\nbattery-min-download-percent: 15%\nvpn-interfaces: [corp*, type=65534]\n"
        + "metered: seed-only\nmetered-interfaces: [wwan*]\nmetered-command: ''\n"
        + "rate-schedule: 'Mon-Fri 08:00-18:00 down=2MiB up=512KiB; * 18:00-08:00 down=0 up=0'\n").policy();
    assertEquals(50, p.batteryMinUploadPercent());
    assertEquals(15, p.batteryMinDownloadPercent());
    assertTrue(p.vpnInterfaces().matches("corp0", 1));
    assertFalse(p.vpnInterfaces().matches("tun0", 1)); // the list replaces the defaults
    assertEquals(PolicyConfig.Metered.SEED_ONLY, p.metered());
    assertTrue(p.meteredInterfaces().matches("wwan0", 1));
    assertEquals(List.of(), p.meteredCommand());
    assertEquals(2, p.rateSchedule().rules().size());
  }

  @Test
  void anEmptyVpnListTurnsThePolicyOff() throws Exception {
    assertTrue(build("vpn-interfaces: []\n").policy().vpnInterfaces().isEmpty());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "battery-min-upload-percent: 120    | battery-min-upload-percent",
        "battery-min-download-percent: never | battery-min-download-percent",
        "vpn-interfaces: ['tun 0']         | vpn-interfaces",
        "metered: sometimes                | metered",
        "metered-interfaces: ['!']         | metered-interfaces",
        "rate-schedule: 'weekdays 8-18 down=1MiB' | rate-schedule",
        "wan-yield: cubic                   | wan-yield",
        "upload-yield: yes                  | upload-yield",
      })
  void badValueIsOneLineNamingFileLineAndKey(String line, String key) throws Exception {
    Path f = tmp.resolve("bad.yaml");
    Files.writeString(f, "data: /d\ntrust: /t\n" + line + "\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    String m = e.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.startsWith(f + " line 3: " + key + ": "), m);
  }

  @Test
  void aMisspelledPolicyKeyIsNamed() throws Exception {
    Path f = tmp.resolve("typo.yaml");
    Files.writeString(f, "data: /d\nmetred: defer\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    assertTrue(e.getMessage().startsWith(f + " line 2: unknown key 'metred'"), e.getMessage());
  }
}
