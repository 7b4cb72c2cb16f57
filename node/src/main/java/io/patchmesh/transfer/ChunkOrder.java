package io.patchmesh.transfer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Random;
import java.util.function.IntPredicate;

/**
 * This node's random order of a manifest's chunks, in which the picker breaks ties: every node
 * scans from its own permutation and a fresh random start, so nodes with the same view still pick
 * different chunks. A scan visits only a given candidate set, in that order, at a cost of about
 * O(candidates · log candidates) when they are few (the usual case once a transfer is under way)
 * rather than O(chunks) per scan. Single-threaded, owned by one {@link ChunkPicker}.
 */
final class ChunkOrder {
  /** Below this share of the chunks, candidates are sorted by position rather than scanned for. */
  private static final int SPARSE_DIVISOR = 16;

  private final int[] order;
  /** Inverse of {@code order}: where chunk {@code c} sits in it. */
  private final int[] position;
  private int[] scratch = new int[0];

  ChunkOrder(int chunkCount, Random random) {
    order = new int[chunkCount];
    for (int i = 0; i < chunkCount; i++) {
      order[i] = i;
    }
    for (int i = chunkCount - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    position = new int[chunkCount];
    for (int i = 0; i < chunkCount; i++) {
      position[order[i]] = i;
    }
  }

  int size() {
    return order.length;
  }

  /**
   * Visits the chunks of {@code candidates} (which holds {@code count} of them) in this order,
   * starting at position {@code start} and wrapping around, until {@code visitor} returns false.
   */
  void scan(BitSet candidates, int count, int start, IntPredicate visitor) {
    int n = order.length;
    if (count == 0 || n == 0) {
      return;
    }
    if ((long) count * SPARSE_DIVISOR >= n) {
      for (int i = 0; i < n; i++) {
        int c = order[(start + i) % n];
        if (candidates.get(c) && !visitor.test(c)) {
          return;
        }
      }
      return;
    }
    // Sort the few candidates by their distance from `start` in the order: encode (distance, chunk)
    // in one long so a primitive sort does it without boxing.
    long[] keys = new long[count];
    int k = 0;
    for (int c = candidates.nextSetBit(0); c >= 0 && k < count; c = candidates.nextSetBit(c + 1)) {
      int distance = position[c] - start;
      if (distance < 0) {
        distance += n;
      }
      keys[k++] = ((long) distance << 32) | c;
    }
    Arrays.sort(keys, 0, k);
    for (int i = 0; i < k; i++) {
      if (!visitor.test((int) keys[i])) {
        return;
      }
    }
  }
}
