package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PeerAddressTest {
  @Test
  void parsesIpLiteralsWithoutResolvingAnything() {
    InetSocketAddress v4 = PeerAddress.parse("10.1.2.3:7700");
    assertEquals("10.1.2.3", v4.getAddress().getHostAddress());
    assertEquals(7700, v4.getPort());
    assertFalse(v4.isUnresolved());
    InetSocketAddress v6 = PeerAddress.parse("[fe80::1]:7700");
    assertEquals(7700, v6.getPort());
    assertTrue(PeerAddress.isIpLiteral("::1"));
    assertTrue(PeerAddress.isIpLiteral("::ffff:10.0.0.1"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"seed1.example.internal:7700", "attacker-controlled.invalid:1", "localhost:7700", "10.1.2:7700",
      "256.1.1.1:7700", "1::2::3:7700", "10.1.2.3:", "10.1.2.3:70000", "10.1.2.3:x", ":7700", "deadbeef:7700"})
  void refusesNamesAndMalformedAddresses(String gossiped) {
    assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse(gossiped));
  }

  @Test
  void configuredNamesAreResolvedOnceAtStartToIps() {
    assertEquals(List.of("127.0.0.1:7700", "10.0.0.9:7701"), PeerAddress.resolveConfigured(List.of("localhost:7700", "10.0.0.9:7701")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PeerAddress.resolveConfigured(List.of("no-such-host.invalid:7700")));
    assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
  }
}
