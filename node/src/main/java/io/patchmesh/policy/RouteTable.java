package io.patchmesh.policy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The IPv4 routing table as Linux prints it in {@code /proc/net/route} (pure: fed the text): which
 * interface a packet to an address leaves by, and the default gateway. Addresses in that file are
 * hex in the host's byte order. At most {@value #MAX_ROUTES} routes are kept.
 */
public final class RouteTable {
  static final int MAX_ROUTES = 1024;
  private static final int RTF_UP = 0x1;

  /** One route; addresses and masks as big-endian ints (a.b.c.d = a &lt;&lt; 24 | ...). */
  public record Route(String iface, int destination, int gateway, int mask, int metric) {}

  private final List<Route> routes;

  private RouteTable(List<Route> routes) {
    this.routes = List.copyOf(routes);
  }

  public static RouteTable empty() {
    return new RouteTable(List.of());
  }

  /** Parses the file's text; unreadable lines are skipped. */
  public static RouteTable parse(String text) {
    return parse(text, ByteOrder.nativeOrder());
  }

  static RouteTable parse(String text, ByteOrder order) {
    List<Route> out = new ArrayList<>();
    String[] lines = text.split("\n");
    String[] f = new String[FIELDS];
    for (int i = 1; i < lines.length && out.size() < MAX_ROUTES; i++) {
      if (fields(lines[i], f) < FIELDS) {
        continue;
      }
      try {
        int flags = Integer.parseInt(f[3], 16);
        if ((flags & RTF_UP) == 0) {
          continue;
        }
        out.add(new Route(f[0], addr(f[1], order), addr(f[2], order), addr(f[7], order), Integer.parseInt(f[6])));
      } catch (NumberFormatException e) {
        // a line we do not understand says nothing about routing; skip it
      }
    }
    return new RouteTable(out);
  }

  public List<Route> routes() {
    return routes;
  }

  /** The route a packet to {@code address} takes: longest prefix, then lowest metric. */
  public Optional<Route> lookup(int address) {
    Route best = null;
    for (Route r : routes) {
      if ((address & r.mask()) != r.destination()) {
        continue;
      }
      if (best == null || Integer.bitCount(r.mask()) > Integer.bitCount(best.mask())
          || (r.mask() == best.mask() && r.metric() < best.metric())) {
        best = r;
      }
    }
    return Optional.ofNullable(best);
  }

  /** The interface a packet to {@code address} leaves by; empty for IPv6 or no route. */
  public Optional<String> interfaceFor(InetAddress address) {
    if (!(address instanceof Inet4Address)) {
      return Optional.empty();
    }
    return lookup(toInt(address)).map(Route::iface);
  }

  /** The default route (mask 0) with the lowest metric. */
  public Optional<Route> defaultRoute() {
    Route best = null;
    for (Route r : routes) {
      if (r.mask() == 0 && (best == null || r.metric() < best.metric())) {
        best = r;
      }
    }
    return Optional.ofNullable(best);
  }

  public static int toInt(InetAddress a) {
    byte[] b = a.getAddress();
    return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
  }

  public static String dotted(int a) {
    return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
  }

  /** The fields a route needs: Iface, Destination, Gateway, Flags, RefCnt, Use, Metric, Mask. */
  private static final int FIELDS = 8;

  /**
   * The first {@code into.length} whitespace-separated fields of {@code line} into {@code into};
   * returns how many there were (at most {@code into.length}). As {@code line.trim().split("\\s+")}
   * without a regular expression: the policy watch parses this file every 10 s, and compiling the
   * pattern for each line, in code the JIT never compiles at that rate, was half of an idle agent's
   * refresh (BENCHMARKS 12.45).
   */
  static int fields(String line, String[] into) {
    int n = 0;
    int i = 0;
    int len = line.length();
    while (n < into.length) {
      while (i < len && isSpace(line.charAt(i))) {
        i++;
      }
      if (i == len) {
        break;
      }
      int start = i;
      while (i < len && !isSpace(line.charAt(i))) {
        i++;
      }
      into[n++] = line.substring(start, i);
    }
    return n;
  }

  /** {@code \s} of a regular expression: space, tab, newline, vertical tab, form feed, carriage return. */
  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
  }

  private static int addr(String hex, ByteOrder order) {
    int v = (int) Long.parseLong(hex, 16);
    return order == ByteOrder.LITTLE_ENDIAN ? Integer.reverseBytes(v) : v;
  }
}
