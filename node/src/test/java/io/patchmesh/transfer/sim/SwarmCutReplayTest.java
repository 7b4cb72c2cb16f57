package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Site cuts on virtual time: seed's {@code SitePartitionTest} replayed in the simulation, and the
 * issue-16 field observation of a cut site that took far longer after healing than its remaining
 * bytes needed. A cut drops frames without closing anything; connections that sent during it back
 * off as TCP does ({@link SimWire}).
 */
class SwarmCutReplayTest {
  static final int MIB = 1 << 20;

  /** Runs {@code cfg} to the end and returns the simulation, for per-node times. */
  static SwarmSimulation run(SwarmSimConfig cfg) {
    SwarmSimulation sim = new SwarmSimulation(cfg);
    sim.start();
    sim.wire.runUntil(cfg.limitMillis(), sim::allHonestComplete, new SwarmSimulation.HeapWatch());
    return sim;
  }

  static long lastCompletion(SwarmSimulation sim, int site) {
    long last = -1;
    for (SimNode a : sim.sites.get(site)) {
      assertTrue(a.completedAt >= 0, a + " did not complete");
      last = Math.max(last, a.completedAt);
    }
    return last;
  }

  /**
   * SitePartitionTest: three branch sites of two agents at 8 Mbit/s, a 12 MiB patch, the third site
   * cut for 60 s about half-way through. The other sites finish during the cut without waiting for
   * it, the cut site finishes after the heal, no chunk crosses its link twice beyond 5%, nobody
   * honest is banned. About a minute and a half of virtual time.
   *
   * <p>Not a failing replay of fc78e27: with its rules reverted in a scratch worktree (2026-12-03:
   * UploadQueue grants slots whatever the link's writability and never parks) this still passes,
   * with 64, 24 or 4 seed slots and with {@code Liveness.OFF} too (s0/s1 done at 13.8/14.9 s): a
   * cut agent's first piece fills its send queue, so each holds one slot and the others keep the
   * rest. The replay shown failing on fc78e27 is {@code swarm/ServingReplayTest}.
   *
   * <p>Nor does it replay SitePartitionTest's first failure (29e6d1d; docs/RELIABILITY.md of
   * e308146): the cut site took 1.10 and 1.30 x the patch, because each agent's ~64 WAN requests in
   * flight at the cut timed out at the 60 s floor and were asked again of another peer across the
   * same cut, and on restore both copies arrived; fixed by 6385577/75a70b7 (a silent WAN link's
   * request clocks stop). With that rule reverted in a scratch worktree (2026-12-03, t16k-replay:
   * SourceRules.watchWanLinks excuses nothing and never reports the WAN all silent), on the link
   * layer of the time ({@code Liveness.OFF}), cut at 4 s for 60 s, 64 or 256 KiB chunks, the
   * requests do time out (the cut site finishes ~8 s later) but the cut site's WAN stays at
   * 1.000-1.042 x with at most 3 duplicate pieces, also with cc9c440's reserve rule reverted and a
   * 2 s seed round trip (so other sites' agents are sources to re-ask). The duplicates came from
   * pieces the seed had already written into the cut connections: the real test's loopback sockets
   * and WanEmulator took megabytes per connection, the simulated send queue takes 64 KiB before the
   * seed parks, so at a timeout the piece is still at the seed and the Cancel recalls it. With that
   * queue at 4 MiB (a scratch edit of SimLink.HIGH_WATER_BYTES) one of four variants exceeds 1.05 x
   * (1.083 x, 256 KiB chunks, 200 ms seed round trip), the others stay at 1.000-1.042 x: not a
   * dependable replay, so none is kept.
   */
  @Test
  void sitePartitionReplay() {
    SwarmSimConfig cfg = SwarmSimConfig.builder(6, 3, 12L * MIB).chunkBytes(256 * 1024).seed(7)
        .down(8, Map.of()).cuts(List.of(new SwarmSimConfig.Cut(2, 6_000, 60_000))).limitMillis(600_000).build();
    SwarmSimulation sim = run(cfg);
    double bound = sim.wanBoundMillis(0);
    for (int s = 0; s < 2; s++) {
      long done = lastCompletion(sim, s);
      assertTrue(done < 66_000, "site " + s + " finished during the cut: " + done + " ms");
      assertTrue(done <= 1.5 * bound, "site " + s + " finished at " + done + " ms, bound " + bound);
    }
    long cutDone = lastCompletion(sim, 2);
    assertTrue(cutDone > 66_000, "the cut site cannot finish inside the cut: " + cutDone);
    assertTrue(sim.wire.wanBytesInto[2] <= 1.05 * cfg.sizeBytes(), "cut site WAN bytes " + sim.wire.wanBytesInto[2]);
    assertEquals(0, sim.honestBans);
  }

  /**
   * The field observation of issue 16 (2 sites x 3 agents, 20 Mbit/s, 48 MB, one site cut at +5 s
   * for 60 s: 36 s after healing where ~15 s of bytes were left), replayed on the link layer of
   * that time ({@link SwarmSimConfig.Liveness#OFF}: no user timeout, no fast redial). The cut site's
   * connections to the seed held unacknowledged data when the cut began, so they retransmit with
   * exponential backoff (0.2, 0.4, 0.8 ... 25.6 s, then 51.2 s apart): the first retransmission after
   * the heal at +65 s is the one at +107.2 s, 42 s later, and nothing moves on those connections
   * before it. The simulation shows the tail is that wait, not the swarm: the cut site finishes
   * within its remaining bytes' time after its connections' first retransmission after the heal.
   * Nothing in the swarm notices the heal sooner (no new connection is dialled while the old one
   * is open and merely silent); the fix is {@code net/PathLiveness}, modelled in the next test.
   */
  @Test
  void aHealedSiteWaitsForItsConnectionsRetransmissionTimers() {
    long cutAt = 5_000;
    long cutFor = 60_000;
    SwarmSimConfig cfg = fieldCut(cutAt, cutFor).liveness(SwarmSimConfig.Liveness.OFF).build();
    SwarmSimulation sim = run(cfg);
    long heal = cutAt + cutFor;
    long rto = sim.wire.rtoMillis(sim.seedNode, sim.sites.get(1).get(0));
    long retransmit = cutAt + rto;
    for (long step = rto; retransmit < heal; ) {
      step = Math.min(2 * step, SimWire.MAX_RTO_MILLIS);
      retransmit += step;
    }
    double bound = sim.wanBoundMillis(1);
    long done = lastCompletion(sim, 1);
    assertTrue(retransmit - heal > 30_000, "the backoff leaves the healed link idle: " + (retransmit - heal) + " ms");
    assertTrue(done > retransmit, "nothing arrives before the first retransmission after the heal: " + done);
    // What was left at the cut (at most the whole patch) crosses at the site's rate once it resumes.
    assertTrue(done <= retransmit + 1.2 * bound, "done " + done + " ms, resumed " + retransmit + " ms, bound " + bound);
    assertEquals(0, sim.honestBans);
    assertEquals(6, sim.agents.length);
  }

  /** Issue 16's field setting: 2 sites x 3 agents at 20 Mbit/s, 48 MB in 1 MiB chunks, site s1 cut. */
  private static SwarmSimConfig.Builder fieldCut(long cutAt, long cutFor) {
    return SwarmSimConfig.builder(6, 2, 48_000_000L).chunkBytes(MIB).seed(1)
        .down(20, Map.of()).cuts(List.of(new SwarmSimConfig.Cut(1, cutAt, cutFor))).limitMillis(600_000);
  }

  /**
   * The same field cut with the runtime's link liveness ({@code net/PathLiveness}: data
   * unacknowledged for 20 s closes a link; {@code RedialPolicy}: an unanswered dial is tried again
   * after 0.5-1 s). The cut site's links to the seed close about 20 s into the cut, its agents keep
   * dialling the seed, the first SYN after the heal is answered, and the site finishes within 1.2x
   * the time its remaining bytes need at its rate.
   */
  @Test
  void aHealedSiteRedialsAndFinishesInItsRemainingBytesTime() {
    SwarmSimulation sim = run(fieldCut(5_000, 60_000).build());
    long done = lastCompletion(sim, 1);
    assertTrue(done > 65_000, "the cut site cannot finish inside the cut: " + done);
    double tail = sim.healTailMax();
    assertTrue(tail > 0 && tail <= 1.2, "after the heal the cut site took " + tail + "x its remaining bytes' time");
    assertTrue(sim.wire.wanBytesInto[1] <= 1.05 * sim.cfg.sizeBytes(), "cut site WAN bytes " + sim.wire.wanBytesInto[1]);
    assertEquals(0, sim.honestBans);
  }

  /**
   * {@code sim swarm --cut s7@20s+60s} at small scale (80 agents in 10 sites, 20 Mbit/s each, 128
   * MiB): the other sites finish during the cut, s7 within 1.2x its remaining bytes' time after the
   * heal, nobody honest is banned.
   */
  @Test
  void oneSiteOfTenCutForAMinute() {
    SwarmSimConfig cfg = SwarmSimConfig.builder(80, 10, 128L * MIB).chunkBytes(MIB).seed(3).down(20, Map.of())
        .cuts(List.of(new SwarmSimConfig.Cut(7, 20_000, 60_000))).limitMillis(600_000).build();
    SwarmSimulation sim = run(cfg);
    double bound = sim.wanBoundMillis(0);
    for (int s = 0; s < 10; s++) {
      if (s != 7) {
        assertTrue(lastCompletion(sim, s) <= 1.5 * bound, "site s" + s + " finished at " + lastCompletion(sim, s));
      }
    }
    double tail = sim.healTailMax();
    assertTrue(tail > 0 && tail <= 1.2, "after the heal s7 took " + tail + "x its remaining bytes' time");
    assertEquals(0, sim.honestBans);
  }

  /** The same scenario, flags and seed give the same figures, bit for bit, cuts and loss included. */
  @Test
  void cutsAndLossReplayTheSameWay() {
    SwarmSimConfig cfg = SwarmSimConfig.builder(40, 4, 8L * MIB).chunkBytes(256 * 1024).seed(11).down(50, Map.of())
        .loss(0.02).cuts(List.of(new SwarmSimConfig.Cut(1, 1_000, 5_000))).kill(2, 1_500).corruptPeers(1).slowSites(1)
        .fullDisks(1).rottenChunks(10).limitMillis(600_000).build();
    SwarmSimResult a = SwarmSimulation.run(cfg);
    SwarmSimResult b = SwarmSimulation.run(cfg);
    assertEquals(a.deterministicPart(), b.deterministicPart());
    assertEquals(a.honest(), a.completed(), a.toString());
    assertEquals(0, a.honestBans(), a.toString());
  }
}
