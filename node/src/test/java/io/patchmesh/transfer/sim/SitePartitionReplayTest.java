package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SitePartitionTest's first failure (29e6d1d, docs/RELIABILITY.md of e308146) replayed on virtual
 * time with every node's real {@code SwarmCore}: a site cut off for 60 s mid-rollout pulled 1.10 and
 * 1.30 x the patch over its WAN link. Each agent's WAN requests in flight at the cut timed out at
 * the 60 s WAN floor and were asked again across the same cut (of a site-mate taking the silent
 * member's chunks over, or of another source), while the first copies sat in the cut connections;
 * after the heal both copies crossed. Fixed by 75a70b7 (today {@code WanLinkWatch} via {@code
 * SourceRules.watchWanLinks}): a WAN link we wait on that received nothing for 3 s is down, not
 * slow, so its requests' clocks stop, and while every WAN link of a session is silent, site members
 * are not taken over for not fetching across it.
 *
 * <p>What makes it a replay is how much the cut connections hold ({@link
 * SwarmSimConfig.SendBuffers}): a sender's pieces are the network's once Netty's 64 KiB mark and
 * the kernel's socket buffer took them, and a Cancel cannot recall them. The socket buffer follows
 * the congestion window, which a bulk flow grows until the bottleneck's queue overflows; here a
 * branch router with a 1000-packet queue (1.5 MB: 600 ms at 20 Mbit/s), so each seed connection
 * into the site holds about 3.3 MB, three of the 1 MiB pieces. With only the Netty mark ({@code
 * SendBuffers.NETTY_ONLY}, the network model before) the old rule does not fail: what a timed-out
 * request's Cancel finds still queued at the seed is recalled (the earlier {@code
 * SwarmCutReplayTest.sitePartitionReplay} javadoc).
 *
 * <p>The run uses the link layer of the time ({@link SwarmSimConfig.Liveness#OFF}: no TCP user
 * timeout, links across the cut stay open and deliver what they hold once TCP's backoff retransmits
 * after the heal). The WAN bytes are counted after the held bytes have drained: the last of them
 * cross after the last agent completed, and the link carries them all the same.
 *
 * <p>Shown failing on the old rule, 2026-12-03, in a scratch worktree (t16l-scratch: c519a26 with
 * {@code SourceRules.watchWanLinks} applying no excuse and never reporting the WAN all silent):
 * "cut site WAN bytes 1.083 x the patch once drained (1.042 x when its last agent completed at
 * 107032 ms)"; 8 timeouts and 13 site takeovers in the cut site. Seeds 1..6 of this scenario put
 * 1.083, 1.125, 1.083, 1.125, 1.167 and 1.083 x the patch into the cut site on the old rule, and
 * 1.000 x for all six with 64 KiB send queues ({@code NETTY_ONLY}); with the rule, 1.000 x for all
 * six (seed 1: the cut site done at 117.4 s, the others at 11.1 s).
 */
class SitePartitionReplayTest {
  static final int MIB = 1 << 20;

  /** SitePartitionTest's layout (3 branch sites x 2 agents, the third cut for 60 s mid-rollout) at 20 Mbit/s. */
  static SwarmSimConfig scenario(long seed) {
    return SwarmSimConfig.builder(6, 3, 24L * MIB).chunkBytes(MIB).seed(seed).down(20, Map.of())
        .cuts(List.of(new SwarmSimConfig.Cut(2, 4_000, 60_000))).liveness(SwarmSimConfig.Liveness.OFF)
        .sendBuffers(new SwarmSimConfig.SendBuffers(4L << 20, 600)).limitMillis(600_000).build();
  }

  @Test
  void aCutSiteDoesNotPullTimedOutRequestsTwiceAfterTheHeal() {
    SwarmSimConfig cfg = scenario(1);
    SwarmSimulation sim = SwarmCutReplayTest.run(cfg);
    double bound = sim.wanBoundMillis(0);
    for (int s = 0; s < 2; s++) {
      long done = SwarmCutReplayTest.lastCompletion(sim, s);
      assertTrue(done < 1.5 * bound, "site s" + s + " finished at " + done + " ms, its bound " + Math.round(bound) + " ms");
    }
    long cutDone = SwarmCutReplayTest.lastCompletion(sim, 2);
    assertTrue(cutDone > 64_000, "the cut site cannot finish inside the cut: " + cutDone);
    long atCompletion = sim.wire.wanBytesInto[2];
    // Bytes the cut connections still hold cross after the last agent completed: let them.
    sim.wire.runUntil(cfg.limitMillis(), () -> false, new SwarmSimulation.HeapWatch());
    long wan = sim.wire.wanBytesInto[2];
    assertTrue(wan <= 1.02 * cfg.sizeBytes(), String.format(
        "cut site WAN bytes %.3f x the patch once drained (%.3f x when its last agent completed at %d ms)",
        (double) wan / cfg.sizeBytes(), (double) atCompletion / cfg.sizeBytes(), cutDone));
    assertEquals(0, sim.honestBans);
  }

  /** The deep socket buffers are what the cut holds: each seed connection into the site takes several pieces. */
  @Test
  void eachSeedConnectionIntoTheSiteHoldsSeveralPieces() {
    SwarmSimulation sim = new SwarmSimulation(scenario(1));
    SimNode agent = sim.sites.get(2).get(0);
    long held = sim.seedNode.links.get(agent.id).highWaterBytes;
    assertTrue(held > 3L * MIB && held < 4L * MIB, "seed to cut-site agent: " + held);
    SimLink lan = agent.links.get(sim.sites.get(2).get(1).id);
    assertEquals(SwarmSimConfig.SendBuffers.NETTY_HIGH_WATER_BYTES, lan.highWaterBytes);
  }
}
