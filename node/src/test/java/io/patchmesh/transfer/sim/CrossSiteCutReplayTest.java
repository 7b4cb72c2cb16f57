package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The setting of cc9c440's third stall (another site's tail waited on a cut site's agents) on
 * virtual time with every node's real {@code SwarmCore}: the seed is far (a 2 s round trip) and the
 * sites near each other (20 ms), so every agent hears its cross-site peers' have-maps long before
 * the seed's; then one site is cut for two minutes. The other sites must finish in about their WAN
 * bound, not after a 60 s WAN request timeout.
 *
 * <p>Not a replay: with the reserve rule and the abandoning of silent WAN links both disabled (a
 * scratch copy of SourceRules, 2026-12-03) it still passes, because the seed, unmeasured or faster
 * and with pipeline room, keeps the cut site's agents from being asked at all ({@code
 * ChunkPicker}'s fastest-WAN-source rule). It stays as a guard of the setting.
 */
class CrossSiteCutReplayTest {
  static final int MIB = 1 << 20;

  @Test
  void aCutSitesAgentsDoNotHoldTheOtherSitesTail() {
    long cutAt = 3_000;
    SwarmSimConfig cfg = SwarmSimConfig.builder(12, 3, 16L * MIB).chunkBytes(256 * 1024).seed(5)
        .down(20, Map.of()).rtt(2_000, Map.of(0, 20L, 1, 20L, 2, 20L))
        .cuts(List.of(new SwarmSimConfig.Cut(2, cutAt, 120_000))).limitMillis(600_000).build();
    SwarmSimulation sim = SwarmCutReplayTest.run(cfg);
    double bound = sim.wanBoundMillis(0);
    for (int s = 0; s < 2; s++) {
      long done = SwarmCutReplayTest.lastCompletion(sim, s);
      // the WAN bound, the seed's round trips and the 1 s WAN start delay; a stall is a 60 s timeout
      assertTrue(done < 2 * bound + 6_000, "site s" + s + " finished at " + done + " ms, its bound " + bound);
    }
    assertEquals(0, sim.honestBans);
  }
}
