package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * cc9c440, third stall, replayed on virtual time with every node's real {@code SwarmCore}: another
 * site's tail waited on a cut site's agents. The seed is far (a 2 s round trip) and the sites near
 * each other (20 ms), so every agent hears its cross-site peers' have-maps long before the seed's:
 * before cc9c440 those agents stayed sources ("whichever have-map came first"), took a share of the
 * requests, and when their site was cut the requests they held waited for their 60 s WAN timeouts.
 * Now they join the reserve once the seed serves, and a WAN link silent for 10 s while another
 * delivers is abandoned ({@code WanLinkWatch}).
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
