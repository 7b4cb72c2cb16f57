package io.patchmesh.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads {@link Power} from Linux's {@code /sys/class/power_supply}: one directory per supply with
 * {@code type} (Mains, USB, Battery, UPS...), {@code online} (mains/USB: 1 = plugged in),
 * {@code capacity} (battery: 0-100) and {@code status} (Charging, Discharging, Full, ...).
 *
 * <p>On battery means: a battery exists and no Mains or USB supply is online; when the machine
 * lists no Mains/USB supply at all (some laptops), a battery whose status is "Discharging" decides.
 * The charge is the mean of the batteries' capacities. A missing directory (desktops, containers,
 * other systems) reads as {@link Power#MAINS}. The root is injectable so tests lay out a fake /sys.
 */
public final class PowerSupplyReader {
  public static final Path DEFAULT_ROOT = Path.of("/sys/class/power_supply");
  /** Bounds the work a strange /sys can cause. */
  private static final int MAX_SUPPLIES = 32;

  private final Path root;

  public PowerSupplyReader(Path root) {
    this.root = root;
  }

  public Power read() {
    if (!Files.isDirectory(root)) {
      return Power.MAINS;
    }
    List<Path> supplies = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      s.sorted().limit(MAX_SUPPLIES).forEach(supplies::add);
    } catch (IOException e) {
      return Power.MAINS;
    }
    boolean externalListed = false;
    boolean externalOnline = false;
    boolean discharging = false;
    int batteries = 0;
    int sum = 0;
    for (Path p : supplies) {
      String type = text(p.resolve("type"));
      if (type.equalsIgnoreCase("Mains") || type.toUpperCase(java.util.Locale.ROOT).startsWith("USB")) {
        externalListed = true;
        externalOnline |= text(p.resolve("online")).equals("1");
      } else if (type.equalsIgnoreCase("Battery")) {
        String scope = text(p.resolve("scope"));
        if (scope.equalsIgnoreCase("Device")) {
          continue; // a wireless mouse's battery, not the machine's
        }
        batteries++;
        discharging |= text(p.resolve("status")).equalsIgnoreCase("Discharging");
        try {
          sum += Math.max(0, Math.min(100, Integer.parseInt(text(p.resolve("capacity")))));
        } catch (NumberFormatException e) {
          sum += 0; // unknown charge counts as empty: the cautious answer for "may we upload"
        }
      }
    }
    if (batteries == 0) {
      return Power.MAINS;
    }
    boolean onBattery = externalListed ? !externalOnline : discharging;
    return new Power(onBattery, sum / batteries);
  }

  private static String text(Path file) {
    try {
      if (Files.size(file) > 256) {
        return "";
      }
      return Files.readString(file).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
