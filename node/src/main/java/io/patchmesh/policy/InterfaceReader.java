package io.patchmesh.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads the machine's network interfaces that are up, with their ARPHRD type, from Linux's
 * {@code /sys/class/net/IFACE/{operstate,type}} ("up", or "unknown" as tun and WireGuard report).
 * Loopback is left out. A missing directory reads as no interfaces. Root injectable for tests.
 */
public final class InterfaceReader {
  public static final Path DEFAULT_ROOT = Path.of("/sys/class/net");
  private static final int MAX_INTERFACES = 256;

  private final Path root;

  public InterfaceReader(Path root) {
    this.root = root;
  }

  /** Interface name to ARPHRD type (-1 if unreadable), for the interfaces that are up. */
  public Map<String, Integer> read() {
    Map<String, Integer> out = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> s = Files.list(root)) {
      s.sorted().limit(MAX_INTERFACES).forEach(p -> {
        String name = p.getFileName().toString();
        String state = text(p.resolve("operstate"));
        if (name.equals("lo") || !(state.equals("up") || state.equals("unknown"))) {
          return;
        }
        int type;
        try {
          type = Integer.parseInt(text(p.resolve("type")));
        } catch (NumberFormatException e) {
          type = -1;
        }
        if (type != 772) { // ARPHRD_LOOPBACK under another name
          out.put(name, type);
        }
      });
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  private static String text(Path file) {
    try {
      return Files.size(file) > 64 ? "" : Files.readString(file).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
