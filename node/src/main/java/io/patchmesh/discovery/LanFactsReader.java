package io.patchmesh.discovery;

import io.patchmesh.policy.RouteTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Reads this machine's {@link LanFacts} from Linux: the default route and its interface's
 * connected subnet from {@code proc/net/route}, the gateway's MAC from {@code proc/net/arp}, below
 * a root laid out like {@code /} (tests point it at a directory of their own). The public address
 * comes from a supplier (what a seed saw; "" while unknown). Blocking file reads: call off the loop.
 */
public final class LanFactsReader implements Supplier<LanFacts> {
  private static final long MAX_FILE = 256 * 1024;

  private final Path root;
  private final Supplier<String> publicAddress;

  public LanFactsReader(Path root, Supplier<String> publicAddress) {
    this.root = root;
    this.publicAddress = publicAddress;
  }

  @Override
  public LanFacts get() {
    RouteTable routes = RouteTable.parse(read(root.resolve("proc/net/route")));
    Optional<RouteTable.Route> def = routes.defaultRoute();
    if (def.isEmpty() || def.get().gateway() == 0) {
      return LanFacts.NONE;
    }
    String iface = def.get().iface();
    int gw = def.get().gateway();
    int subnet = gw;
    int prefix = 32;
    for (RouteTable.Route r : routes.routes()) { // the connected route of that interface that holds the gateway
      int bits = Integer.bitCount(r.mask());
      if (r.iface().equals(iface) && r.gateway() == 0 && r.mask() != 0 && (gw & r.mask()) == r.destination()
          && (prefix == 32 || bits > prefix)) {
        subnet = r.destination();
        prefix = bits;
      }
    }
    return new LanFacts(gw, arp(RouteTable.dotted(gw), iface), subnet, prefix, publicAddress.get());
  }

  /** The gateway's MAC from proc/net/arp ("IP HW-type Flags HW-address Mask Device"), or empty. */
  private byte[] arp(String ip, String iface) {
    for (String line : read(root.resolve("proc/net/arp")).split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 6 && f[0].equals(ip) && f[5].equals(iface) && !f[2].equals("0x0")) {
        try {
          byte[] mac = HexFormat.ofDelimiter(":").parseHex(f[3]);
          if (mac.length == 6 && !java.util.Arrays.equals(mac, new byte[6])) {
            return mac;
          }
        } catch (IllegalArgumentException e) {
          return new byte[0];
        }
      }
    }
    return new byte[0];
  }

  private static String read(Path file) {
    try {
      return Files.isRegularFile(file) && Files.size(file) <= MAX_FILE ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
