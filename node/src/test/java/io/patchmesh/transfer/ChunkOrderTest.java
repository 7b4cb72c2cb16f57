package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkOrderTest {

  /** The plain definition: walk the permutation from {@code start}, keep the candidates. */
  private static List<Integer> reference(int[] order, BitSet candidates, int start, int limit) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < order.length && out.size() < limit; i++) {
      int c = order[(start + i) % order.length];
      if (candidates.get(c)) {
        out.add(c);
      }
    }
    return out;
  }

  private static int[] permutation(ChunkOrder order, int n) {
    BitSet all = new BitSet(n);
    all.set(0, n);
    int[] out = new int[n];
    int[] i = {0};
    order.scan(all, n, 0, c -> {
      out[i[0]++] = c;
      return true;
    });
    return out;
  }

  @Test
  void scanVisitsTheCandidatesInPermutationOrderFromTheStartWhateverTheirDensity() {
    Random r = new Random(7);
    for (int n : new int[] {1, 2, 40, 1000, 7145}) {
      ChunkOrder order = new ChunkOrder(n, new Random(n));
      int[] perm = permutation(order, n);
      for (double density : new double[] {0, 0.001, 0.01, 0.05, 0.5, 1}) {
        BitSet cand = new BitSet(n);
        for (int c = 0; c < n; c++) {
          if (r.nextDouble() < density) {
            cand.set(c);
          }
        }
        int start = r.nextInt(n);
        for (int limit : new int[] {1, 5, Integer.MAX_VALUE}) {
          List<Integer> got = new ArrayList<>();
          order.scan(cand, cand.cardinality(), start, c -> {
            got.add(c);
            return got.size() < limit;
          });
          assertEquals(reference(perm, cand, start, limit), got, "n=" + n + " density=" + density + " limit=" + limit);
        }
      }
    }
  }

  @Test
  void theOrderIsAPermutationThatDiffersBetweenNodes() {
    int n = 500;
    int[] a = permutation(new ChunkOrder(n, new Random(1)), n);
    int[] b = permutation(new ChunkOrder(n, new Random(2)), n);
    assertEquals(n, java.util.Arrays.stream(a).distinct().count());
    assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
  }
}
