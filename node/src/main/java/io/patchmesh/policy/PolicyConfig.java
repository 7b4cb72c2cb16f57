package io.patchmesh.policy;

import io.patchmesh.errors.UserInputException;
import java.util.List;
import java.util.Locale;

/**
 * The laptop and shared-link policies an agent is configured with (docs/CONFIG.md, "Laptops").
 *
 * @param batteryMinUploadPercent on battery, serve peers only at or above this charge;
 *     {@value #NEVER} = never on battery (default)
 * @param batteryMinDownloadPercent on battery, fetch non-urgent manifests only at or above this
 *     charge (default 0: always)
 * @param vpnInterfaces no peering over these interfaces; seeds stay reachable (default {@link
 *     InterfacePatterns#VPN_DEFAULTS})
 * @param metered what a metered link changes: {@code defer} (default), {@code seed-only} or {@code ignore}
 * @param meteredInterfaces interfaces that are metered whatever NetworkManager says (default none)
 * @param meteredCommand the NetworkManager CLI asked about the default route's interface (default
 *     {@code nmcli}; empty = don't ask)
 * @param rateSchedule caps by time of day, on top of download-rate / upload-rate (default none)
 * @param factsRoot the directory the facts are read below, laid out like {@code /} (default {@code
 *     /}; a container with the host's /sys mounted elsewhere, a lab, a test)
 */
public record PolicyConfig(
    int batteryMinUploadPercent,
    int batteryMinDownloadPercent,
    InterfacePatterns vpnInterfaces,
    Metered metered,
    InterfacePatterns meteredInterfaces,
    List<String> meteredCommand,
    RateSchedule rateSchedule,
    java.nio.file.Path factsRoot) {

  /** A percentage above any charge: no uploads on battery at all. */
  public static final int NEVER = 101;

  /** What a metered link changes. */
  public enum Metered {
    /** Wait for an unmetered link, unless the rollout is urgent; no uploads. */
    DEFER,
    /** Fetch from seeds only; no uploads. */
    SEED_ONLY,
    /** Treat a metered link like any other. */
    IGNORE;

    public String key() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public static PolicyConfig defaults() {
    return new PolicyConfig(NEVER, 0, InterfacePatterns.parse("vpn-interfaces", InterfacePatterns.VPN_DEFAULTS),
        Metered.DEFER, InterfacePatterns.none(), List.of("nmcli"), RateSchedule.none(), java.nio.file.Path.of("/"));
  }

  /** "never" or 0-100; the error names the key. */
  public static int percent(String key, String text, boolean neverAllowed) {
    String t = text.trim();
    if (neverAllowed && t.equalsIgnoreCase("never")) {
      return NEVER;
    }
    try {
      int p = Integer.parseInt(t.endsWith("%") ? t.substring(0, t.length() - 1) : t);
      if (p >= 0 && p <= 100) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through to the one-line error
    }
    throw new UserInputException(key + ": '" + text + "' is not a percentage 0-100" + (neverAllowed ? " or never" : ""));
  }

  public static Metered metered(String key, String text) {
    for (Metered m : Metered.values()) {
      if (m.key().equals(text.trim())) {
        return m;
      }
    }
    throw new UserInputException(key + ": '" + text + "' is not defer, seed-only or ignore");
  }

  /** A command line split on spaces ("" = none). */
  public static List<String> command(String text) {
    return text == null || text.isBlank() ? List.of() : List.of(text.trim().split("\\s+"));
  }
}
