package io.patchmesh.net;

import io.patchmesh.proto.Role;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The address seeds see this node coming from (the {@code observed_address} of their Hello
 * answers): behind a NAT, the public address of the LAN, which site discovery names a site by.
 * Taken only from peers whose Hello claims the seed role (with TLS their certificate must grant
 * it: {@link HelloCheck}), only as an IP literal of at most {@value #MAX_TEXT} characters, from
 * at most {@value #MAX_SEEDS} seeds (the one heard longest ago is forgotten first). When seeds
 * disagree the address most of them report wins, ties the smallest. Pure; callers synchronise.
 */
public final class ObservedAddresses {
  static final int MAX_TEXT = 45;
  static final int MAX_SEEDS = 16;
  private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
  private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]{2,45}$");

  private final LinkedHashMap<NodeId, String> bySeed = new LinkedHashMap<>();

  /** What a peer's Hello answer said; true if it was taken (from a seed, well-formed, new). */
  public boolean offer(NodeId peer, Set<Role> roles, String observed) {
    if (!roles.contains(Role.ROLE_SEED) || !isAddress(observed)) {
      return false;
    }
    String before = bySeed.remove(peer);
    if (bySeed.size() >= MAX_SEEDS) {
      bySeed.remove(bySeed.keySet().iterator().next());
    }
    bySeed.put(peer, observed.toLowerCase(java.util.Locale.ROOT));
    return !observed.equalsIgnoreCase(before);
  }

  /** The address most seeds report (ties: the smallest text); "" before any seed answered. */
  public String current() {
    Map<String, Integer> votes = new TreeMap<>();
    for (String a : bySeed.values()) {
      votes.merge(a, 1, Integer::sum);
    }
    String best = "";
    int most = 0;
    for (Map.Entry<String, Integer> v : votes.entrySet()) {
      if (v.getValue() > most) {
        best = v.getKey();
        most = v.getValue();
      }
    }
    return best;
  }

  /** An IPv4 dotted quad or an IPv6 literal (no host names: nothing here may cause a lookup). */
  static boolean isAddress(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_TEXT) {
      return false;
    }
    if (IPV4.matcher(text).matches()) {
      return true;
    }
    if (!text.contains(":") || !IPV6.matcher(text).matches()) {
      return false;
    }
    try {
      return java.net.InetAddress.getByName(text) instanceof java.net.Inet6Address; // a literal: parsed, never looked up
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}
