package io.patchmesh.discovery;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public address seeds saw this machine coming from, per LAN it was on (keyed by gateway,
 * gateway MAC and subnet: a laptop that moves is never named by the last LAN's address), kept in
 * a small file of the data directory so a restarted agent names its site at once instead of once
 * more when a seed has answered. An address inside the LAN's own subnet is refused: then no NAT
 * sits between the agent and the seed (a seed on the same LAN, a routed network), and the address
 * names the host, not the LAN. At most {@value #MAX_LANS} LANs (the one learned longest ago goes
 * first); the file is read bounded and line by line, a bad line skipped. Thread-safe.
 */
public final class PublicAddressBook {
  static final int MAX_LANS = 32;
  static final String FILE = "site-public-addresses.txt";
  private static final long MAX_FILE = 16 * 1024;
  private static final Pattern TEXT = Pattern.compile("^[0-9A-Fa-f:.]{2,45}$");
  private static final Logger log = LoggerFactory.getLogger(PublicAddressBook.class);

  private final Path file;
  private final LinkedHashMap<String, String> byLan = new LinkedHashMap<>();

  /** @param dataDir where the file lives; null keeps the book in memory only */
  public PublicAddressBook(Path dataDir) {
    this.file = dataDir == null ? null : dataDir.resolve(FILE);
    if (file != null && Files.isRegularFile(file)) {
      try {
        if (Files.size(file) <= MAX_FILE) {
          for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.trim().split(" ");
            if (f.length == 2 && f[0].length() <= 64 && TEXT.matcher(f[1]).matches()) {
              put(f[0], f[1]);
            }
          }
        }
      } catch (IOException e) {
        log.warn("ignoring {}: {}", file, e.getMessage());
      }
    }
  }

  /** The public address known for {@code lan} (its own public address is ignored), or "". */
  public synchronized String get(LanFacts lan) {
    return lan.known() ? byLan.getOrDefault(key(lan), "") : "";
  }

  /**
   * Remembers what a seed saw while this machine was on {@code lan}; true if that is news. Refused
   * (false) inside the LAN's own subnet or when not an IPv4/IPv6 literal.
   */
  public synchronized boolean learn(LanFacts lan, String address) {
    if (!lan.known() || address == null || !TEXT.matcher(address).matches() || insideSubnet(address, lan)) {
      return false;
    }
    String key = key(lan);
    if (address.equalsIgnoreCase(byLan.get(key))) {
      return false;
    }
    put(key, address.toLowerCase(java.util.Locale.ROOT));
    save();
    return true;
  }

  /** True if {@code address} is an IPv4 address inside {@code lan}'s subnet. */
  static boolean insideSubnet(String address, LanFacts lan) {
    int v = LanFactsReader.parse(address);
    return v != 0 && (v & SiteAliases.mask(lan.prefixLength())) == lan.subnet();
  }

  private void put(String key, String address) {
    byLan.remove(key);
    if (byLan.size() >= MAX_LANS) {
      byLan.remove(byLan.keySet().iterator().next());
    }
    byLan.put(key, address);
  }

  private static String key(LanFacts lan) {
    return Integer.toHexString(lan.gateway()) + "-" + HexFormat.of().formatHex(lan.gatewayMac()) + "-"
        + Integer.toHexString(lan.subnet()) + "/" + lan.prefixLength();
  }

  private void save() {
    if (file == null) {
      return;
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> e : byLan.entrySet()) {
      out.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    }
    try {
      Path tmp = file.resolveSibling(FILE + ".tmp");
      Files.writeString(tmp, out, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.warn("cannot keep {}: {}", file, e.getMessage());
    }
  }
}
