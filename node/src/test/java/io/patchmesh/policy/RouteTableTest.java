package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  /** As read from a real /proc/net/route (x86, little-endian): default via 192.0.2.1 on eth0. */
  static final String REAL = """
      Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
      eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
      eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
      tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0
      """;

  /** The parser's fields are what {@code trim().split("\\s+")} gave, the first eight of them. */
  @Test
  void splitsFieldsAsTheRegularExpressionDid() {
    for (String line : new String[] {"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
        "  eth0  00000000 \t010200C0\t\t0003 0 0 0 00000000\r", "a b c", "", "   \t ", "x\u000By\fz\n",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"}) {
      String[] want = line.trim().split("\\s+");
      int wantCount = want.length == 1 && want[0].isEmpty() ? 0 : Math.min(8, want.length);
      String[] got = new String[8];
      assertEquals(wantCount, RouteTable.fields(line, got), "'" + line + "'");
      for (int i = 0; i < wantCount; i++) {
        assertEquals(want[i], got[i], "'" + line + "' field " + i);
      }
    }
  }

  @Test
  void readsTheDefaultGatewayAndInterface() throws Exception {
    RouteTable t = RouteTable.parse(REAL, ByteOrder.LITTLE_ENDIAN);
    RouteTable.Route d = t.defaultRoute().orElseThrow();
    assertEquals("eth0", d.iface());
    assertEquals("192.0.2.1", RouteTable.dotted(d.gateway()));
  }

  @Test
  void longestPrefixWins() throws Exception {
    RouteTable t = RouteTable.parse(REAL, ByteOrder.LITTLE_ENDIAN);
    assertEquals(Optional.of("tun0"), t.interfaceFor(InetAddress.getByName("10.1.2.3")));
    assertEquals(Optional.of("eth0"), t.interfaceFor(InetAddress.getByName("192.0.2.77")));
    assertEquals(Optional.of("eth0"), t.interfaceFor(InetAddress.getByName("8.8.8.8")));
  }

  @Test
  void lowerMetricWinsAmongEqualPrefixes() {
    String text = "h\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        + "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
    assertEquals("eth0", RouteTable.parse(text, ByteOrder.LITTLE_ENDIAN).defaultRoute().orElseThrow().iface());
  }

  @Test
  void skipsRoutesThatAreDownAndLinesItCannotRead() {
    String text = "h\neth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\ngarbage\nx\tzz\tzz\tzz\t0\t0\t0\tzz\n";
    assertTrue(RouteTable.parse(text, ByteOrder.LITTLE_ENDIAN).routes().isEmpty());
  }

  @Test
  void ipv6HasNoRouteHere() throws Exception {
    assertTrue(RouteTable.parse(REAL, ByteOrder.LITTLE_ENDIAN).interfaceFor(InetAddress.getByName("::1")).isEmpty());
  }

  @Test
  void keepsAtMostABoundedNumberOfRoutes() {
    StringBuilder sb = new StringBuilder("h\n");
    for (int i = 0; i < RouteTable.MAX_ROUTES + 100; i++) {
      sb.append("eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n");
    }
    assertEquals(RouteTable.MAX_ROUTES, RouteTable.parse(sb.toString(), ByteOrder.LITTLE_ENDIAN).routes().size());
  }
}
