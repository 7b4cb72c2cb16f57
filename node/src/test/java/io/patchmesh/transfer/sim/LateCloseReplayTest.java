package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * cc9c440's second stall replayed on virtual time with every node's real {@code SwarmCore}: two
 * site-mates dialled each other at once, and the replaced link's close came late.
 */
class LateCloseReplayTest {
  static final int MIB = 1 << 20;

  /**
   * At {@code atMillis} {@code a} and {@code b} (linked already) are linked again, both ends at
   * once, as when both dial each other; the older link closes {@code lateMillis} later on both ends,
   * after the have-maps offered over the newer one have arrived.
   */
  static void dialledEachOtherAtOnce(SwarmSimulation sim, SimNode a, SimNode b, long atMillis, long lateMillis) {
    sim.wire.at(atMillis, () -> {
      SimLink olderAtA = a.links.get(b.id);
      SimLink olderAtB = b.links.get(a.id);
      a.linkUp(b);
      b.linkUp(a);
      sim.wire.at(sim.wire.now() + lateMillis, () -> {
        a.linkDown(olderAtA);
        b.linkDown(olderAtB);
      });
    });
  }

  @Test
  void siteMatesThatDialledEachOtherAtOnceKeepTradingAfterTheOlderLinkCloses() {
    SwarmSimConfig cfg = SwarmSimConfig.builder(4, 2, 16L * MIB).chunkBytes(256 * 1024).seed(3)
        .down(20, Map.of()).limitMillis(600_000).build();
    SwarmSimulation sim = new SwarmSimulation(cfg);
    sim.start();
    SimNode a = sim.sites.get(0).get(0);
    SimNode b = sim.sites.get(0).get(1);
    dialledEachOtherAtOnce(sim, a, b, 2_000, 100);
    sim.wire.runUntil(cfg.limitMillis(), sim::allHonestComplete, new SwarmSimulation.HeapWatch());
    double bound = sim.wanBoundMillis(0);
    long done = SwarmCutReplayTest.lastCompletion(sim, 0);
    double wan = (double) sim.wire.wanBytesInto[0] / cfg.sizeBytes();
    System.err.printf("LATECLOSE site s0 done %d ms bound %.0f ms wan %.3f x; s1 done %d ms wan %.3f x%n", done, bound, wan,
        SwarmCutReplayTest.lastCompletion(sim, 1), (double) sim.wire.wanBytesInto[1] / cfg.sizeBytes());
    assertTrue(wan <= 1.05, "site s0 WAN bytes " + wan + " x size");
    assertTrue(done <= 1.5 * bound, "site s0 finished at " + done + " ms, its bound " + Math.round(bound) + " ms");
    assertEquals(0, sim.honestBans);
  }
}
