package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.transfer.PickerCounters;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SitePartitionTest's first failure replayed on virtual time. */
class SitePartitionReplayTest {
  static final int MIB = 1 << 20;

  static long duplicates(SwarmSimulation sim, int site) {
    long d = 0;
    for (SimNode a : sim.sites.get(site)) {
      PickerCounters c = a.session().counters();
      d += c == null ? 0 : c.duplicatePieces();
    }
    return d;
  }

  @Test
  void experiment() {
    for (int chunk : new int[] {256 * 1024, 64 * 1024}) {
      for (long at : new long[] {4_000, 6_000}) {
        for (long dur : new long[] {60_000}) {
          SwarmSimConfig cfg = SwarmSimConfig.builder(6, 3, 12L * MIB).chunkBytes(chunk).seed(7)
              .down(8, Map.of()).cuts(List.of(new SwarmSimConfig.Cut(2, at, dur)))
              .liveness(SwarmSimConfig.Liveness.OFF).limitMillis(600_000).build();
          SwarmSimulation sim = SwarmCutReplayTest.run(cfg);
          System.err.printf("PARTITION chunk %d cut@%d+%d: s0 %d s1 %d s2 %d ms; wan s2 %.3f x; dup s2 %d; bans %d%n",
              chunk, at, dur, SwarmCutReplayTest.lastCompletion(sim, 0), SwarmCutReplayTest.lastCompletion(sim, 1),
              SwarmCutReplayTest.lastCompletion(sim, 2), (double) sim.wire.wanBytesInto[2] / cfg.sizeBytes(),
              duplicates(sim, 2), sim.honestBans);
        }
      }
    }
    assertEquals(0, 0);
  }
}
