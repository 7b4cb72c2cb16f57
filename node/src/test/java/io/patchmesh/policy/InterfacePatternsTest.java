package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InterfacePatternsTest {
  @TempDir Path dir;

  @Test
  void defaultVpnPatternsMatchCommonClients() {
    InterfacePatterns vpn = InterfacePatterns.parse("vpn-interfaces", InterfacePatterns.VPN_DEFAULTS);
    for (String name : List.of("tun0", "wg0", "wg-office", "ppp0", "tap1", "utun3", "ipsec0")) {
      assertTrue(vpn.matches(name, 1), name);
    }
    for (String name : List.of("eth0", "wlan0", "enp0s3", "docker0", "br0")) {
      assertFalse(vpn.matches(name, 1), name);
    }
  }

  @Test
  void typePatternsMatchByArphrdType() {
    InterfacePatterns p = InterfacePatterns.parse("vpn-interfaces", List.of("type=65534"));
    assertTrue(p.matches("corpvpn", 65534));
    assertFalse(p.matches("corpvpn", 1));
    assertFalse(p.matches("corpvpn", -1));
  }

  @Test
  void badPatternNamesTheKey() {
    UserInputException e = assertThrows(UserInputException.class,
        () -> InterfacePatterns.parse("vpn-interfaces", List.of("tun*", "a b")));
    assertEquals("vpn-interfaces: 'a b' is not an interface name glob (like tun* or wg0) or type=N", e.getMessage());
  }

  @Test
  void interfaceReaderListsInterfacesThatAreUpWithoutLoopback() {
    FakeSys sys = new FakeSys(dir).iface("lo", 772, "unknown").iface("eth0", 1, "up").iface("wlan0", 1, "down")
        .iface("tun0", 65534, "unknown");
    assertEquals(Map.of("eth0", 1, "tun0", 65534), new InterfaceReader(dir.resolve("sys/class/net")).read());
    assertEquals(Map.of(), new InterfaceReader(dir.resolve("nowhere")).read());
  }
}
