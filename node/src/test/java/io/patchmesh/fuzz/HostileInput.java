package io.patchmesh.fuzz;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HexFormat;

/** The property every fuzz test checks: typed rejection only, bounded time, bounded allocation. */
final class HostileInput {
  /** Far above any input here (the slowest take a few ms); a loaded CI machine must not flake. */
  static final Duration TIME_LIMIT = Duration.ofSeconds(2);
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private HostileInput() {}

  /** Loads classes and runs cold paths once, so the first measured input is not charged for them. */
  static <T extends FuzzTarget> T warm(T target) {
    for (int i = 0; i < 300; i++) {
      try {
        target.feed(target.generate(FuzzRun.randomFor(-1, i)));
      } catch (Throwable ignored) {
        // only warming up; the properties check outcomes
      }
    }
    return target;
  }

  /**
   * Feeds {@code input}; fails on an exception the target does not document, on a slow input, or
   * when feeding it allocated more than {@code allocationLimit} bytes.
   */
  static void survives(FuzzTarget target, byte[] input, long allocationLimit) {
    long allocated = THREADS.getCurrentThreadAllocatedBytes();
    long start = System.nanoTime();
    try {
      target.feed(input);
    } catch (Throwable t) {
      if (!target.expected(t)) {
        throw new AssertionError(target.name() + " threw " + t + " for input " + hex(input), t);
      }
    }
    long nanos = System.nanoTime() - start;
    allocated = THREADS.getCurrentThreadAllocatedBytes() - allocated;
    if (nanos > TIME_LIMIT.toNanos()) {
      throw new AssertionError(target.name() + " took " + nanos / 1_000_000 + " ms for input " + hex(input));
    }
    if (allocated > allocationLimit) {
      throw new AssertionError(target.name() + " allocated " + allocated + " bytes (limit " + allocationLimit
          + ") for input " + hex(input));
    }
  }

  static String hex(byte[] input) {
    String h = HexFormat.of().formatHex(input);
    return input.length + " bytes " + (h.length() > 200 ? h.substring(0, 200) + "..." : h);
  }
}
