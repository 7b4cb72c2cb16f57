package io.patchmesh.content;

import java.util.ArrayList;
import java.util.List;

/** Deterministic test bytes (SplitMix64), independent of JDK random generators. */
final class TestData {
  private TestData() {}

  static byte[] random(long seed, int size) {
    byte[] out = new byte[size];
    long state = seed;
    for (int i = 0; i < size; i += 8) {
      state += 0x9e3779b97f4a7c15L;
      long z = state;
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      z ^= z >>> 31;
      for (int j = 0; j < 8 && i + j < size; j++) {
        out[i + j] = (byte) (z >>> (8 * j));
      }
    }
    return out;
  }

  /** Chunk lengths FastCDC gives for the whole array. */
  static List<Integer> cuts(FastCdc cdc, byte[] data) {
    List<Integer> lengths = new ArrayList<>();
    int off = 0;
    while (off < data.length) {
      int len = cdc.cut(data, off, data.length - off);
      lengths.add(len);
      off += len;
    }
    return lengths;
  }

  /** Chunk ids of the whole array, cut by FastCDC. */
  static List<ChunkId> chunkIds(FastCdc cdc, byte[] data) {
    List<ChunkId> ids = new ArrayList<>();
    int off = 0;
    for (int len : cuts(cdc, data)) {
      ids.add(ChunkId.hash(data, off, len));
      off += len;
    }
    return ids;
  }
}
