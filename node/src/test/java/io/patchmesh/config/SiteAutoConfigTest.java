package io.patchmesh.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.discovery.LanFacts;
import io.patchmesh.discovery.SiteAnnouncer;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.tls.PeerCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code site: auto} and the discovery keys (issue 17): defaults, values, one-line errors, roaming certificates. */
class SiteAutoConfigTest {
  @TempDir Path tmp;

  private NodeConfig build(String yaml, boolean agent) throws Exception {
    Path f = tmp.resolve("node.yaml");
    Files.writeString(f, "data: /d\ntrust: /t\ntls: /tls\njoin: [seed:7700]\napply-dir: /a\n" + yaml);
    return new NodeConfig.Builder().file(ConfigFile.read(f)).build(agent);
  }

  @Test
  void siteAutoIsForAgentsAndDefaultsToTheAdministrativelyScopedGroup() throws Exception {
    NodeConfig c = build("site: auto\n", true);
    assertTrue(c.siteAuto());
    assertEquals(SiteAnnouncer.DEFAULT_GROUP, c.discovery().group());
    assertEquals(SiteAnnouncer.DEFAULT_PORT, c.discovery().port());
    assertEquals("", c.discovery().iface());
    NodeConfig moved = c.withSite("lan-0123456789ab");
    assertFalse(moved.siteAuto());
    assertEquals("lan-0123456789ab", moved.site());
    assertEquals(c.discovery(), moved.discovery());
    UserInputException e = assertThrows(UserInputException.class, () -> build("site: auto\n", false));
    assertTrue(e.getMessage().contains("--site auto is for agents"), e.getMessage());
  }

  @Test
  void aliasesJoinOneOfficeOnTwoSubnets() throws Exception {
    NodeConfig c = build("site: auto\nsite-aliases:\n  berlin: [10.1.0.0/24, gw=10.1.1.1]\n  hamburg: [public=203.0.113.7]\n"
        + "discovery-group: 10.1.255.255\ndiscovery-port: 7799\ndiscovery-interface: eth1\n", true);
    assertEquals("berlin", c.discovery().aliases().nameFor(new LanFacts(0x0A010001, new byte[0], 0x0A010000, 24, "")).orElseThrow());
    assertEquals("berlin", c.discovery().aliases().nameFor(new LanFacts(0x0A010101, new byte[0], 0x0A010100, 24, "")).orElseThrow());
    assertEquals("10.1.255.255", c.discovery().group());
    assertEquals(7799, c.discovery().port());
    assertEquals("eth1", c.discovery().iface());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "discovery-port: 70000              | 2 | discovery-port",
        "discovery-group: 239.255.77        | 2 | discovery-group",
        "discovery-group: 300.1.1.1         | 2 | discovery-group",
        "discovery-interface: 'eth 0'       | 2 | discovery-interface",
        "site-aliases: {berlin: [10.1.0.0/33]} | 2 | site-aliases",
        "site-aliases: {'no site': [gw=10.1.0.1]} | 2 | site-aliases",
        "site-aliases: {berlin: []}        | 2 | site-aliases",
        "battery-min-upload: 50            | 2 | battery-min-upload",
        "vpn-interface: [tun*]             | 2 | vpn-interface",
        "metered: maybe                    | 2 | metered",
      })
  void badValueOrUnknownKeyIsOneLineNamingFileLineAndKey(String line, int lineNo, String key) throws Exception {
    Path f = tmp.resolve("bad.yaml");
    Files.writeString(f, "site: auto\n" + line + "\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    String m = e.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.startsWith(f + " line " + lineNo + ": "), m);
    assertTrue(m.contains(key), m);
  }

  @Test
  void aRoamingCertificateMayClaimAnyDiscoveredSiteButAFixedOneOnlyItsOwn() {
    assertTrue(PeerCertificates.permitsSite("berlin", "berlin"));
    assertFalse(PeerCertificates.permitsSite("berlin", "hamburg"));
    assertTrue(PeerCertificates.permitsSite(PeerCertificates.ROAMING_SITE, "lan-0123456789ab"));
    assertTrue(PeerCertificates.permitsSite(PeerCertificates.ROAMING_SITE, "berlin"));
    assertFalse(PeerCertificates.permitsSite(PeerCertificates.ROAMING_SITE, "auto"), "nobody runs in a site named auto");
  }
}
