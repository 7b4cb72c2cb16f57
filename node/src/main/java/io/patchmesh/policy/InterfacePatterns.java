package io.patchmesh.policy;

import io.patchmesh.errors.UserInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A list of network interface patterns from the config: a glob on the interface name
 * ({@code tun*}, {@code wg0}, {@code ppp?}) or {@code type=N}, the ARPHRD number Linux shows in
 * {@code /sys/class/net/IFACE/type} (65534 = no link layer: tun and WireGuard; 512 = PPP).
 */
public final class InterfacePatterns {
  /** The VPN interfaces of common clients: OpenVPN/tun, WireGuard, PPP, tap, macOS utun, IPsec. */
  public static final List<String> VPN_DEFAULTS = List.of("tun*", "wg*", "ppp*", "tap*", "utun*", "ipsec*");

  private static final Pattern GLOB = Pattern.compile("^[A-Za-z0-9_.:@*?-]{1,32}$");
  private static final Pattern TYPE = Pattern.compile("^type=(\\d{1,5})$");

  private final List<String> source;
  private final List<Pattern> names = new ArrayList<>();
  private final List<Integer> types = new ArrayList<>();

  private InterfacePatterns(List<String> source) {
    this.source = List.copyOf(source);
  }

  /** Parses; a bad pattern is a one-line error naming {@code key}. */
  public static InterfacePatterns parse(String key, List<String> patterns) {
    if (patterns.size() > 64) {
      throw new UserInputException(key + ": at most 64 patterns");
    }
    InterfacePatterns p = new InterfacePatterns(patterns);
    for (String s : patterns) {
      String t = s == null ? "" : s.trim();
      java.util.regex.Matcher m = TYPE.matcher(t);
      if (m.matches()) {
        p.types.add(Integer.parseInt(m.group(1)));
      } else if (GLOB.matcher(t).matches()) {
        p.names.add(Pattern.compile(globToRegex(t)));
      } else {
        throw new UserInputException(key + ": '" + s + "' is not an interface name glob (like tun* or wg0) or type=N");
      }
    }
    return p;
  }

  public static InterfacePatterns none() {
    return new InterfacePatterns(List.of());
  }

  public boolean isEmpty() {
    return source.isEmpty();
  }

  /** True if the interface matches by name, or by type when its type is known (≥ 0). */
  public boolean matches(String name, int type) {
    for (Pattern n : names) {
      if (n.matcher(name).matches()) {
        return true;
      }
    }
    return type >= 0 && types.contains(type);
  }

  public List<String> source() {
    return source;
  }

  private static String globToRegex(String glob) {
    StringBuilder r = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> r.append(".*");
        case '?' -> r.append('.');
        default -> r.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return r.toString();
  }
}
