package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import org.junit.jupiter.api.Test;

/**
 * The request pacer with the agent's own loop late ({@link RequestPacer#onOwnLag}): as 12 agents
 * compiling their piece path on two cores were in the first rollout (BENCHMARKS 13t), a piece that
 * waited in our own socket must not read as the site link's queue, and a real queue must still make
 * the window yield. Virtual time: the pacer alone, then {@link SiteLinkModel#stalls} (the loop away
 * 150 ms of every 500).
 */
class RequestPacerOwnLagTest {
  final NodeId seed = NodeId.of(SiteLinkModel.filled((byte) 1));
  final ManifestId m = ManifestId.of(new byte[ManifestId.LENGTH]);
  final RequestPacer p = new RequestPacer(LedbatConfig.forRequests());
  int next;
  long now;

  /** Pieces of 32 KiB asked for one after another, each arriving {@code timed} ms after its request; our loop {@code lag} late. */
  void pieces(int count, long timed, long lag) {
    for (int i = 0; i < count; i++) {
      p.onSent(seed, m, next, 32 * 1024, now);
      p.onSent(seed, m, next + 1, 32 * 1024, now); // keeps something in flight: the window may grow
      now += timed;
      p.onOwnLag(now, lag);
      p.onPiece(seed, m, next, now);
      p.reconcile(seed, m, 0);
      next += 2;
    }
  }

  @Test
  void ourOwnLatenessAloneDoesNotShrinkTheWindow() {
    pieces(20, 40, 0); // the path: 40 ms
    long before = p.windowBytes(seed);
    pieces(40, 240, 200); // every piece handled 200 ms late by our own loop
    assertEquals(40, p.flows.get(seed).ledbat.baseDelayMillis());
    assertEquals(0, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) >= before, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void aRealQueueStillShrinksIt() {
    pieces(20, 40, 0);
    long before = p.windowBytes(seed);
    pieces(40, 240, 0); // 200 ms of queue, our loop on time
    assertEquals(200, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) < before / 2, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void aQueueBeyondOurLatenessStillShrinksIt() {
    pieces(20, 40, 0);
    long before = p.windowBytes(seed);
    pieces(40, 440, 200); // 200 ms late, and 200 ms of queue on top
    assertEquals(200, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) < before / 2, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void aLatenessLargerThanTheSampleNeverLowersTheBase() {
    pieces(20, 40, 0);
    pieces(4, 60, 500); // a sample that did not wait the whole lag: 60 - 500 is no delay
    assertEquals(40, p.flows.get(seed).ledbat.baseDelayMillis());
    pieces(4, 40, 0);
    assertEquals(0, p.queuingDelayMillis(seed)); // the path's own 40 ms is still no queue
  }

  @Test
  void aReportCountsForItsOwnLengthOnly() {
    p.onOwnLag(1_000, 200);
    assertEquals(200, p.ownLagMillis(1_000));
    assertEquals(200, p.ownLagMillis(995)); // a piece stamped a moment before the report: the same late batch
    assertEquals(200, p.ownLagMillis(1_200));
    assertEquals(0, p.ownLagMillis(1_201));
    p.onOwnLag(1_100, 0);
    assertEquals(0, p.ownLagMillis(1_100));
  }

  static SiteLinkModel stalled(boolean tcp, boolean report) {
    return new SiteLinkModel(LedbatConfig.forRequests(), 0, 0).chunkSizes(true).tcpRtt(tcp).stalls(500, 150, report);
  }

  @Test
  void onAStarvedLoopTimedPiecesKeepMoreOfTheLink() {
    // model: 0.67 of the link unreported, 0.79 reported (the rest is the stalls themselves: no request
    // goes out while the loop is away); without stalls 0.95
    double unreported = stalled(false, false).run(30_000).share(10_000, 30_000);
    SiteLinkModel reported = stalled(false, true).run(30_000);
    double share = reported.share(10_000, 30_000);
    assertTrue(share >= unreported + 0.08, unreported + " -> " + share + "; " + reported.describe());
    assertTrue(reported.delayPercentile(10_000, 30_000, 95) <= 160, reported.describe());
  }

  @Test
  void onAStarvedLoopItStillYieldsToAnotherFlow() {
    for (boolean tcp : new boolean[] {false, true}) {
      SiteLinkModel s = stalled(tcp, true).run(10_000).cross(true).run(30_000);
      double beside = s.share(15_000, 30_000); // model: 0.02-0.03
      assertTrue(beside <= 0.1, "tcp " + tcp + ": " + beside + "; " + s.describe());
    }
  }
}
