package io.patchmesh.discovery;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The site name agents on one LAN agree on, derived only from what they share, so every agent
 * computes the same name without an election: an alias if the operator gave one, else
 * {@code lan-} and 12 hex digits of SHA-256 over gateway, gateway MAC, subnet and public address.
 * An agent that does not know the public address yet takes the one most of its site-mates report
 * (ties: the smallest), so it converges with them as soon as it hears them. Pure.
 */
public final class SiteName {
  private SiteName() {}

  /**
   * The public address the site-mates of {@code mine}'s LAN report (first-hand: each says what a
   * seed told it): the one most report, ties the smallest; "" if none reports one. Mates of
   * another LAN are ignored.
   */
  public static String publicAddressOfMates(LanFacts mine, Collection<LanFacts> mates) {
    Map<String, Integer> votes = new TreeMap<>();
    for (LanFacts m : mates) {
      if (m.sameLan(mine) && !m.publicAddress().isEmpty()) {
        votes.merge(m.publicAddress(), 1, Integer::sum);
      }
    }
    String best = "";
    for (Map.Entry<String, Integer> v : votes.entrySet()) { // sorted: the first of the most voted wins ties
      if (best.isEmpty() || v.getValue() > votes.get(best)) {
        best = v.getKey();
      }
    }
    return best;
  }

  /**
   * @param mine this machine's LAN facts
   * @param mates the facts of agents heard on the LAN recently (any LAN: those of another are ignored)
   * @return the site name, or empty without a default route
   */
  public static Optional<String> derive(LanFacts mine, Collection<LanFacts> mates, SiteAliases aliases) {
    if (!mine.known()) {
      return Optional.empty();
    }
    LanFacts lan = mine;
    if (lan.publicAddress().isEmpty()) {
      String best = publicAddressOfMates(mine, mates);
      if (!best.isEmpty()) {
        lan = lan.withPublicAddress(best);
      }
    }
    Optional<String> alias = aliases.nameFor(lan);
    if (alias.isPresent()) {
      return alias;
    }
    if (lan.gatewayMac().length == 0) {
      // without the router's MAC, learn it from site-mates that know it (the smallest, if they differ)
      byte[] mac = null;
      for (LanFacts m : mates) {
        if (m.sameLan(lan) && m.gatewayMac().length == 6 && (mac == null || java.util.Arrays.compare(m.gatewayMac(), mac) < 0)) {
          mac = m.gatewayMac();
        }
      }
      if (mac != null) {
        lan = new LanFacts(lan.gateway(), mac, lan.subnet(), lan.prefixLength(), lan.publicAddress());
      }
    }
    String text = lan.gateway() + "|" + HexFormat.of().formatHex(lan.gatewayMac()) + "|" + lan.subnet() + "/"
        + lan.prefixLength() + "|" + lan.publicAddress().toLowerCase(java.util.Locale.ROOT);
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return Optional.of("lan-" + HexFormat.of().formatHex(h, 0, 6));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
