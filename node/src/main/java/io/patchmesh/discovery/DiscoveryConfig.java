package io.patchmesh.discovery;

import io.patchmesh.errors.UserInputException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How an agent with {@code site: auto} finds its site (docs/CONFIG.md, "Site discovery").
 *
 * @param aliases operator names for LANs ({@code site-aliases}; default none)
 * @param group where announcements go: a multicast group (default {@value SiteAnnouncer#DEFAULT_GROUP})
 *     or a broadcast address where multicast is filtered ({@code discovery-group})
 * @param port the UDP port announcements use (default {@value SiteAnnouncer#DEFAULT_PORT}; {@code discovery-port})
 * @param iface the interface to announce on, "" = the system's choice (the default route's)
 *     ({@code discovery-interface})
 */
public record DiscoveryConfig(SiteAliases aliases, String group, int port, String iface) {
  private static final Pattern IFACE = Pattern.compile("^[A-Za-z0-9._@-]{1,15}$");

  public static DiscoveryConfig defaults() {
    return new DiscoveryConfig(SiteAliases.none(), SiteAnnouncer.DEFAULT_GROUP, SiteAnnouncer.DEFAULT_PORT, "");
  }

  /** Parses the four keys; a mistake is one line naming the key. */
  public static DiscoveryConfig parse(Map<String, List<String>> aliases, String group, String port, String iface) {
    return new DiscoveryConfig(
        aliases == null ? SiteAliases.none() : SiteAliases.parse("site-aliases", aliases),
        group(group),
        port(port),
        iface(iface));
  }

  /** An IPv4 multicast or broadcast address, as text. */
  public static String group(String text) {
    String t = text == null ? "" : text.trim();
    boolean ok = t.matches("^\\d{1,3}(\\.\\d{1,3}){3}$");
    for (String part : ok ? t.split("\\.") : new String[0]) {
      ok &= Integer.parseInt(part) <= 255;
    }
    if (!ok) {
      throw new UserInputException("discovery-group: '" + text + "' is not an IPv4 address (e.g. 239.255.77.1)");
    }
    return t;
  }

  public static int port(String text) {
    try {
      int p = Integer.parseInt(text == null ? "" : text.trim());
      if (p >= 1 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new UserInputException("discovery-port: '" + text + "' is not a port (1-65535)");
  }

  public static String iface(String text) {
    String t = text == null ? "" : text.trim();
    if (!t.isEmpty() && !IFACE.matcher(t).matches()) {
      throw new UserInputException("discovery-interface: '" + text + "' is not an interface name (e.g. eth0)");
    }
    return t;
  }
}
