package io.patchmesh.config;

import io.patchmesh.errors.UserInputException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the human units used by flags and config files: sizes ("64MB",
 * "256KiB", "1g"), rates ("20mbit", "2.5MB/s") and durations ("30s", "10m",
 * "365d"). Errors name the value and what was expected.
 */
public final class Units {
  private static final Pattern NUMBER_UNIT = Pattern.compile("^\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z/]*)\\s*$");

  private Units() {}

  /** Bytes. Decimal (KB, MB, GB) and binary (KiB, MiB, GiB) suffixes; k/m/g alone are binary. */
  public static long parseBytes(String what, String text) {
    Matcher m = match(what, text, "a size like 64MB or 256KiB");
    double n = Double.parseDouble(m.group(1));
    String u = m.group(2).toLowerCase(Locale.ROOT);
    long mult =
        switch (u) {
          case "", "b" -> 1L;
          case "kb" -> 1000L;
          case "k", "kib" -> 1024L;
          case "mb" -> 1000_000L;
          case "m", "mib" -> 1024L * 1024;
          case "gb" -> 1000_000_000L;
          case "g", "gib" -> 1024L * 1024 * 1024;
          case "tb" -> 1000_000_000_000L;
          case "t", "tib" -> 1024L * 1024 * 1024 * 1024;
          default -> throw bad(what, text, "a size like 64MB or 256KiB");
        };
    return Math.round(n * mult);
  }

  /** Bytes per second. "20mbit" / "20mbps" (bits), "2.5MB/s" / "2.5MiB/s" (bytes); 0 = unlimited. */
  public static long parseRate(String what, String text) {
    Matcher m = match(what, text, "a rate like 20mbit or 2.5MB/s");
    double n = Double.parseDouble(m.group(1));
    String u = m.group(2).toLowerCase(Locale.ROOT);
    double bytesPerSec =
        switch (u) {
          case "", "b/s", "bps" -> n;
          case "kbit", "kbps" -> n * 1000 / 8;
          case "mbit", "mbps" -> n * 1000_000 / 8;
          case "gbit", "gbps" -> n * 1000_000_000 / 8;
          case "kb/s" -> n * 1000;
          case "mb/s" -> n * 1000_000;
          case "gb/s" -> n * 1000_000_000;
          case "kib/s" -> n * 1024;
          case "mib/s" -> n * 1024 * 1024;
          case "gib/s" -> n * 1024 * 1024 * 1024;
          default -> throw bad(what, text, "a rate like 20mbit or 2.5MB/s");
        };
    return Math.round(bytesPerSec);
  }

  /** Durations: ms, s, m, h, d, w. A bare number is seconds. */
  public static Duration parseDuration(String what, String text) {
    Matcher m = match(what, text, "a duration like 30s, 10m or 365d");
    double n = Double.parseDouble(m.group(1));
    String u = m.group(2).toLowerCase(Locale.ROOT);
    double millis =
        switch (u) {
          case "ms" -> n;
          case "", "s" -> n * 1000;
          case "m", "min" -> n * 60_000;
          case "h" -> n * 3600_000;
          case "d" -> n * 86_400_000;
          case "w" -> n * 7 * 86_400_000;
          default -> throw bad(what, text, "a duration like 30s, 10m or 365d");
        };
    return Duration.ofMillis(Math.round(millis));
  }

  /** "1.5 MB", "300 KiB"-style rendering for people. */
  public static String formatBytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int i = -1;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[i]);
  }

  private static Matcher match(String what, String text, String expected) {
    if (text == null) {
      throw bad(what, "", expected);
    }
    Matcher m = NUMBER_UNIT.matcher(text);
    if (!m.matches()) {
      throw bad(what, text, expected);
    }
    return m;
  }

  private static UserInputException bad(String what, String text, String expected) {
    return new UserInputException(what + ": '" + text + "' is not " + expected);
  }
}
