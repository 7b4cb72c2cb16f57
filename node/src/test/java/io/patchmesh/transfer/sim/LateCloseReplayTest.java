package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * cc9c440's second stall replayed on virtual time with every node's real {@code SwarmCore}: two
 * site-mates dialled each other at once, so each end had two links to the other; the have-maps
 * offered over the newer link arrived, and then the older link's close came late. Under the old
 * rules that close dropped the peer from the session (whichever link it was known by) and its
 * queued requests, and nothing brought it back: a peer's have-map is offered once per link that
 * comes up and answered once per new session peer, both already past, and the Haves it kept
 * sending were ignored as from no session peer. It stayed a live, linked member of the site, so
 * the site economy kept its share of the chunks reserved for it, and each mate fetched the other's
 * share across the WAN only after the site-wait ran out: a stall of minutes and the patch across
 * the site's link about twice. The scenario: 2 sites x 2 agents at 20 Mbit/s, 16 MiB; site s0's
 * agents are linked again at 2 s, both ends at once, the older link closing 100 ms later; s0 must
 * finish in about its WAN bound with each chunk across its link once. About 8 s of virtual time.
 *
 * <p>Shown failing on the old rules, 2026-12-03, in a scratch worktree of t16k-replay at 3fd4631
 * (this test's first version) with cc9c440's rule reverted (Fetching.onLinkDown and
 * Serving.onLinkDown treat every close as not superseded and drop the session peer whichever link
 * it was on; HaveIntake keeps a peer on its older link when a have-map comes over the newer one):
 * "site s0 WAN bytes 1.875 x size", s0 finished at 436,660 ms against a 6,711 ms bound; with the
 * rule, at 7,786 ms and 1.000 x.
 */
class LateCloseReplayTest {
  static final int MIB = 1 << 20;

  /**
   * At {@code atMillis} {@code a} and {@code b} (linked already) are linked again, both ends at
   * once, as when both dial each other; the older link closes {@code lateMillis} later on both ends,
   * after the have-maps offered over the newer one have arrived. The driver tells the core the
   * close is superseded, as {@code runtime/Swarm} does ({@link SimNode#linkDown}).
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
    dialledEachOtherAtOnce(sim, sim.sites.get(0).get(0), sim.sites.get(0).get(1), 2_000, 100);
    sim.wire.runUntil(cfg.limitMillis(), sim::allHonestComplete, new SwarmSimulation.HeapWatch());
    double wan = (double) sim.wire.wanBytesInto[0] / cfg.sizeBytes();
    assertTrue(wan <= 1.05, "site s0 WAN bytes " + wan + " x size");
    double bound = sim.wanBoundMillis(0);
    long done = SwarmCutReplayTest.lastCompletion(sim, 0);
    // the WAN bound, the 1 s WAN start delay and the seed's round trips
    assertTrue(done <= 1.5 * bound, "site s0 finished at " + done + " ms, its bound " + Math.round(bound) + " ms");
    assertEquals(0, sim.honestBans);
  }
}
