package io.patchmesh.store;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic chunk contents for store tests. */
final class TestChunks {
  private TestChunks() {}

  static byte[] random(long seed, int size) {
    byte[] b = new byte[size];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < size; i += 8) {
      long v = r.nextLong();
      for (int j = 0; j < 8 && i + j < size; j++) {
        b[i + j] = (byte) (v >>> (8 * j));
      }
    }
    return b;
  }

  static List<byte[]> many(long firstSeed, int count, int size) {
    List<byte[]> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(random(firstSeed + i, size));
    }
    return out;
  }
}
