package io.patchmesh.discovery;

import io.patchmesh.errors.UserInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Operator-given names for LANs ({@code site-aliases}), checked before any name is derived: one
 * office on two subnets (or behind two gateways) becomes one site by listing both. Each name maps
 * to matchers: {@code 10.1.0.0/23} (the LAN's subnet lies inside), {@code gw=10.1.0.1} (the
 * default gateway), {@code public=203.0.113.7} (the public address a seed saw). First name in
 * file order whose matcher fits wins.
 */
public final class SiteAliases {
  private static final Pattern CIDR = Pattern.compile("^(\\d{1,3}(?:\\.\\d{1,3}){3})/(\\d{1,2})$");
  private static final Pattern GW = Pattern.compile("^gw=(\\d{1,3}(?:\\.\\d{1,3}){3})$");
  private static final Pattern PUBLIC = Pattern.compile("^public=([0-9A-Fa-f:.\\[\\]]{2,64})$");
  private static final Pattern SITE = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");

  private record Matcher1(int kind, int address, int prefix, String text) {}

  private final Map<String, List<Matcher1>> names;

  private SiteAliases(Map<String, List<Matcher1>> names) {
    this.names = names;
  }

  public static SiteAliases none() {
    return new SiteAliases(Map.of());
  }

  /** Parses; a mistake is one line naming {@code key}, the site and the matcher. */
  public static SiteAliases parse(String key, Map<String, List<String>> config) {
    if (config.size() > 64) {
      throw new UserInputException(key + ": at most 64 sites");
    }
    Map<String, List<Matcher1>> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : config.entrySet()) {
      String site = e.getKey();
      if (site == null || !SITE.matcher(site).matches()) {
        throw new UserInputException(key + ": '" + site + "' is not a site name (letters, digits, '.', '_' or '-', max 64)");
      }
      List<Matcher1> ms = new ArrayList<>();
      for (String m : e.getValue() == null ? List.<String>of() : e.getValue()) {
        ms.add(matcher(key, site, m == null ? "" : m.trim()));
      }
      if (ms.isEmpty() || ms.size() > 64) {
        throw new UserInputException(key + ": site " + site + " needs 1-64 matchers (10.1.0.0/24, gw=10.1.0.1, public=203.0.113.7)");
      }
      out.put(site, List.copyOf(ms));
    }
    return new SiteAliases(out);
  }

  public Optional<String> nameFor(LanFacts lan) {
    for (Map.Entry<String, List<Matcher1>> e : names.entrySet()) {
      for (Matcher1 m : e.getValue()) {
        boolean fits = switch (m.kind()) {
          case 0 -> lan.prefixLength() >= m.prefix() && (lan.subnet() & mask(m.prefix())) == m.address();
          case 1 -> lan.gateway() == m.address();
          default -> !lan.publicAddress().isEmpty() && lan.publicAddress().equalsIgnoreCase(m.text());
        };
        if (fits && lan.known()) {
          return Optional.of(e.getKey());
        }
      }
    }
    return Optional.empty();
  }

  private static Matcher1 matcher(String key, String site, String text) {
    Matcher c = CIDR.matcher(text);
    if (c.matches()) {
      int prefix = Integer.parseInt(c.group(2));
      if (prefix <= 32) {
        int addr = ipv4(key, site, c.group(1));
        return new Matcher1(0, addr & mask(prefix), prefix, text);
      }
    }
    Matcher g = GW.matcher(text);
    if (g.matches()) {
      return new Matcher1(1, ipv4(key, site, g.group(1)), 32, text);
    }
    Matcher p = PUBLIC.matcher(text);
    if (p.matches()) {
      return new Matcher1(2, 0, 0, p.group(1));
    }
    throw new UserInputException(key + ": site " + site + ": '" + text
        + "' is not a subnet (10.1.0.0/24), gw=ADDRESS or public=ADDRESS");
  }

  private static int ipv4(String key, String site, String dotted) {
    String[] p = dotted.split("\\.");
    int v = 0;
    for (String part : p) {
      int b = Integer.parseInt(part);
      if (b > 255) {
        throw new UserInputException(key + ": site " + site + ": '" + dotted + "' is not an IPv4 address");
      }
      v = v << 8 | b;
    }
    return v;
  }

  static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }

  @Override
  public String toString() {
    return names.keySet().toString();
  }
}
