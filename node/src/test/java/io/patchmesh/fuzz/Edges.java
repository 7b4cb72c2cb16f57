package io.patchmesh.fuzz;

import java.util.SplittableRandom;

/** Edge values for field-level mutations: the numbers and strings that break naive parsers. */
final class Edges {
  private static final long[] LONGS = {
    0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFF_FFFFL, Long.MAX_VALUE, Long.MIN_VALUE,
    31556889864403199L + 1, -31557014167219200L - 1, 1L << 53, 4_000_001, 256 * 1024 + 1
  };
  private static final String[] STRINGS = {
    "", "/", "..", ".", "a/../b", "/etc/passwd", "a//b", "a\\b", "a\u0000b", "\n", "**", "*",
    "fuzz/", "fuzz/a/b", "\u202e", "x".repeat(5000), "\ud800"
  };

  private Edges() {}

  static long longValue(SplittableRandom r) {
    return r.nextInt(4) == 0 ? r.nextLong() : LONGS[r.nextInt(LONGS.length)];
  }

  static String string(SplittableRandom r) {
    return STRINGS[r.nextInt(STRINGS.length)];
  }
}
