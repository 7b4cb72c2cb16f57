package io.patchmesh.discovery;

import io.patchmesh.policy.RouteTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Reads this machine's {@link LanFacts} from Linux: the default route and its interface's
 * connected subnet from {@code proc/net/route}, the gateway's MAC from {@code proc/net/arp}, below
 * a root laid out like {@code /} (tests point it at a directory of their own). The public address
 * comes from a function of the LAN (what a seed saw there; "" while unknown). This machine's own
 * address on the LAN ({@link #localAddress}) from {@code proc/net/fib_trie}. Blocking file reads:
 * call off the loop.
 */
public final class LanFactsReader implements Supplier<LanFacts> {
  private static final long MAX_FILE = 256 * 1024;

  private final Path root;
  private final Function<LanFacts, String> publicAddress;

  public LanFactsReader(Path root, Supplier<String> publicAddress) {
    this(root, lan -> publicAddress.get());
  }

  /** @param publicAddress the public address known for a LAN (given its facts without one), or "" */
  public LanFactsReader(Path root, Function<LanFacts, String> publicAddress) {
    this.root = root;
    this.publicAddress = publicAddress;
  }

  /**
   * This machine's own IPv4 address inside {@code lan}'s subnet: from {@code proc/net/fib_trie}
   * (an address followed by "/32 host LOCAL"), else from the interfaces Java sees; null if none.
   * The smallest when there are several.
   */
  public String localAddress(LanFacts lan) {
    if (!lan.known()) {
      return null;
    }
    int mask = SiteAliases.mask(lan.prefixLength());
    java.util.TreeMap<Long, String> found = new java.util.TreeMap<>();
    String trie = read(root.resolve("proc/net/fib_trie"));
    String last = null;
    for (String line : trie.split("\n")) {
      String t = line.trim();
      if (t.startsWith("|-- ")) {
        last = t.substring(4).trim();
      } else if (t.equals("/32 host LOCAL") && last != null) {
        int v = parse(last);
        if (v != 0 && (v & mask) == lan.subnet()) {
          found.put(Integer.toUnsignedLong(v), last);
        }
      }
    }
    if (!found.isEmpty()) {
      return found.firstEntry().getValue();
    }
    if (!trie.isEmpty()) {
      return null; // the kernel's own list says: no address of ours there
    }
    try {
      for (java.net.NetworkInterface ni : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
        for (java.net.InetAddress a : java.util.Collections.list(ni.getInetAddresses())) {
          if (a instanceof java.net.Inet4Address && !a.isLoopbackAddress()) {
            int v = java.nio.ByteBuffer.wrap(a.getAddress()).getInt();
            if ((v & mask) == lan.subnet()) {
              found.put(Integer.toUnsignedLong(v), a.getHostAddress());
            }
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return found.isEmpty() ? null : found.firstEntry().getValue();
  }

  /** A dotted quad as a big-endian int, 0 if it is not one. */
  static int parse(String dotted) {
    String[] p = dotted.split("\\.");
    if (p.length != 4) {
      return 0;
    }
    int v = 0;
    for (String part : p) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
        return 0;
      }
      int b = Integer.parseInt(part);
      if (b > 255) {
        return 0;
      }
      v = v << 8 | b;
    }
    return v;
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
    LanFacts lan = new LanFacts(gw, arp(RouteTable.dotted(gw), iface), subnet, prefix, "");
    return lan.withPublicAddress(publicAddress.apply(lan));
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
