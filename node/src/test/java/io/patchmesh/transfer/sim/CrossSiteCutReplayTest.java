package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * cc9c440's third stall replayed on virtual time with every node's real {@code SwarmCore}: another
 * site's tail waited on a cut site's agents. The seed is far (a 2 s round trip), the three sites
 * near each other (20 ms), so every agent hears its cross-site peers' have-maps before the seed's
 * and, under the old rules, keeps them as sources. Site s2 has a fast WAN link (100 Mbit/s against
 * 10), so its agents soon hold chunks the others lack; unmeasured, they rank as fastest and are
 * asked for them. At 10 s s2 is cut for two minutes, with requests of s0's and s1's agents in flight
 * there. Those requests' clocks stop while the link is silent (a cut is not a slow source), so
 * without the fix nothing moves them: the two other sites must still finish in about their WAN
 * bound.
 *
 * <p>The run uses the link layer of the time of the bug ({@link SwarmSimConfig.Liveness#OFF}: no
 * TCP user timeout, links across a cut stay open). Today's {@code PathLiveness} closes those links
 * 20 s into the cut and frees the requests anyway, so the old rules then cost only ~3 s (34.3 s
 * against 31.1 s for s1): the swarm rule and the link layer each cover the stall.
 *
 * <p>Shown failing on the old rules, 2026-12-03, in a scratch worktree of t16j-core at 63fe9b1 with
 * cc9c440's two rules reverted (WanLinkWatch.judge never abandons a long-silent link,
 * SourceRules.reserveCrossSiteAgents returns at once): "site s0 finished at 59441 ms, its bound
 * 26844 ms" (and s1 at 217140 ms); with them, s0 at 30375 ms and s1 at 31135 ms.
 */
class CrossSiteCutReplayTest {
  static final int MIB = 1 << 20;

  @Test
  void aCutSitesAgentsDoNotHoldTheOtherSitesTail() {
    SwarmSimConfig cfg = SwarmSimConfig.builder(12, 3, 32L * MIB).chunkBytes(256 * 1024).seed(5)
        .down(10, Map.of(2, 100.0)).rtt(2_000, Map.of(0, 20L, 1, 20L, 2, 20L))
        .cuts(List.of(new SwarmSimConfig.Cut(2, 10_000, 120_000))).liveness(SwarmSimConfig.Liveness.OFF)
        .limitMillis(600_000).build();
    SwarmSimulation sim = SwarmCutReplayTest.run(cfg);
    double bound = sim.wanBoundMillis(0);
    for (int s = 0; s < 2; s++) {
      long done = SwarmCutReplayTest.lastCompletion(sim, s);
      // the WAN bound, the seed's round trips and the 1 s WAN start delay; the stall lasts the cut
      assertTrue(done < 1.5 * bound, "site s" + s + " finished at " + done + " ms, its bound " + Math.round(bound) + " ms");
    }
    assertEquals(0, sim.honestBans);
  }
}
