package io.patchmesh.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code bench attacks} reads about a node process from Linux's /proc and from the JVM's own
 * GC log: peak RSS (VmHWM), CPU time (utime + stime) and the peak heap in use (the largest
 * "before" figure of any collection in a {@code -Xlog:gc} file).
 */
final class ProcStats {
  private static final Pattern GC = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
  private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux

  private ProcStats() {}

  /** Peak resident set size in bytes, or -1 if the process is gone. */
  static long peakRssBytes(long pid) {
    return statusField(pid, "VmHWM:");
  }

  private static long statusField(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** CPU seconds (user + system) the process has spent so far, or -1 if it is gone. */
  static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND; // fields 14 and 15 of stat
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The largest heap in use before any collection the GC log records, in bytes (-1 if none). */
  static long peakHeapBytes(Path gcLog) {
    long peak = -1;
    try {
      Matcher m = GC.matcher(Files.readString(gcLog));
      while (m.find()) {
        peak = Math.max(peak, Long.parseLong(m.group(1)) * unit(m.group(2)));
      }
    } catch (IOException e) {
      return -1;
    }
    return peak;
  }

  /** The committed heap of the last collection the GC log records, in bytes (-1 if none). */
  static long committedHeapBytes(Path gcLog) {
    long last = -1;
    try {
      Matcher m = GC.matcher(Files.readString(gcLog));
      while (m.find()) {
        last = Long.parseLong(m.group(5)) * unit(m.group(6));
      }
    } catch (IOException e) {
      return -1;
    }
    return last;
  }

  private static long unit(String u) {
    return switch (u) {
      case "K" -> 1L << 10;
      case "M" -> 1L << 20;
      default -> 1L << 30;
    };
  }
}
