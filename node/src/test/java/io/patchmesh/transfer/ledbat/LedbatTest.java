package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * LEDBAT against a bottleneck on virtual time: a 10 Mbit/s link with a 40 ms base RTT and a deep
 * 300 ms buffer (the branch link), as a fluid model stepped each millisecond. Our flow
 * keeps {@code window} bytes of requests in flight; a greedy loss-based flow (the person's CUBIC
 * download) keeps the buffer full while it runs. Departures are shared in proportion to each
 * flow's bytes in the queue; every millisecond our delivered bytes are acknowledged with the RTT
 * of the moment.
 */
class LedbatTest {
  static final double CAPACITY = 1250; // bytes per ms = 10 Mbit/s
  static final double BASE_RTT = 40;
  static final double BUFFER = CAPACITY * 300;

  final Ledbat ledbat = new Ledbat(LedbatConfig.defaults());
  double queueOurs;
  double queueCross;
  long now;

  /** Runs until {@code endMillis}; returns our delivered bytes per ms and the mean queuing delay over the last {@code measureMillis}. */
  double[] run(long endMillis, boolean cross, long measureMillis) {
    double delivered = 0;
    double delaySum = 0;
    long measured = 0;
    for (; now < endMillis; now++) {
      double queue = queueOurs + queueCross;
      double rtt = BASE_RTT + queue / CAPACITY;
      queueOurs += ledbat.windowBytes() / rtt; // fluid: window per RTT
      if (cross) {
        queueCross += Math.max(0, BUFFER - (queueOurs + queueCross)) + CAPACITY; // keeps the buffer full
      }
      queue = queueOurs + queueCross;
      double departing = Math.min(CAPACITY, queue);
      double ours = queue == 0 ? 0 : departing * queueOurs / queue;
      queueOurs -= ours;
      queueCross -= departing - ours;
      if (queueOurs + queueCross > BUFFER) { // tail drop, in proportion
        double over = queueOurs + queueCross - BUFFER;
        double share = queueOurs / (queueOurs + queueCross);
        queueOurs -= over * share;
        queueCross -= over * (1 - share);
      }
      if (ours > 0) {
        ledbat.onAck(now, Math.round(rtt), Math.max(1, Math.round(ours)), ledbat.windowBytes());
      }
      if (endMillis - now <= measureMillis) {
        delivered += ours;
        delaySum += rtt - BASE_RTT;
        measured++;
      }
    }
    return new double[] {delivered / measured, delaySum / measured};
  }

  @Test
  void aloneItFillsTheLinkWithinTheTargetDelay() {
    double[] r = run(20_000, false, 10_000);
    assertTrue(r[0] >= 0.9 * CAPACITY, "throughput " + r[0] + " B/ms of " + CAPACITY);
    assertTrue(r[1] <= 110, "queuing delay " + r[1] + " ms");
    assertEquals(40, ledbat.baseDelayMillis());
  }

  @Test
  void itBacksOffWithinAFewRttsWhenOtherTrafficQueuesAndTakesTheLinkBackWhenItLeaves() {
    run(20_000, false, 1);
    long before = ledbat.windowBytes();
    // the person's download starts: within 2 s (six RTTs of the full buffer's 340 ms) we are down to a tenth
    run(22_000, true, 1);
    assertTrue(ledbat.windowBytes() <= before / 10, "window " + ledbat.windowBytes() + " of " + before);
    double[] yielded = run(40_000, true, 15_000);
    assertTrue(yielded[0] <= 0.05 * CAPACITY, "we still took " + yielded[0] / CAPACITY * 100 + "% of the link");
    // it stops: within 5 s we use the link again
    double[] back = run(45_000, false, 2_000);
    assertTrue(back[0] >= 0.9 * CAPACITY, "throughput " + back[0] + " B/ms after the other flow left");
    assertTrue(back[1] <= 110, "queuing delay " + back[1] + " ms");
  }

  @Test
  void aLossHalvesTheWindowOncePerRtt() {
    run(5_000, false, 1);
    long w = ledbat.windowBytes();
    ledbat.onLoss(now);
    assertEquals(w / 2, ledbat.windowBytes(), 1);
    ledbat.onLoss(now + 1);
    assertEquals(w / 2, ledbat.windowBytes(), 1);
  }

  static final long UNIT = 64 * 1024;
  /** When {@link #grownOnALongPath} ends, virtual ms. */
  static final long GROWN_AT = 3_000;

  /** The request pacer's window after 3 s on a 300 ms path with no queue, every byte of it asked for. */
  static Ledbat grownOnALongPath() {
    Ledbat l = new Ledbat(LedbatConfig.forRequests());
    for (long t = 0; t < GROWN_AT; t += 50) {
      l.onAck(t, 300, UNIT, l.windowBytes());
    }
    assertTrue(l.windowBytes() >= 8 * UNIT, "window " + l.windowBytes());
    return l;
  }

  /** A lost segment held every piece behind it until its retransmission; they arrive together at {@code rtt}. */
  static void burst(Ledbat l, long rtt) {
    for (long inFlight = l.windowBytes() - UNIT; inFlight >= 0; inFlight -= UNIT) {
      l.onAck(GROWN_AT, rtt, UNIT, inFlight);
    }
  }

  @Test
  void piecesHandedOverInABurstDoNotCutTheWindowButAWindowUnusedForAnRttComesDown() {
    Ledbat l = grownOnALongPath();
    long grown = l.windowBytes();
    // no queue: the bytes in flight fall to nothing before the pump asks again (a lossy WAN, BENCHMARKS 12.63)
    burst(l, 300);
    long afterBurst = l.windowBytes();
    assertTrue(afterBurst >= grown, "window " + afterBurst + " after the burst, " + grown + " before");
    // one piece at a time for the next RTTs: the window comes down to that and two units (RFC 6817)
    for (long t = GROWN_AT + 300; t < GROWN_AT + 2_000; t += 300) {
      l.onAck(t, 300, UNIT, 0);
    }
    assertEquals(3 * UNIT, l.windowBytes());
  }

  @Test
  void withAQueueTheWindowIsCappedAtWhatIsLeftInFlightAfterEachPiece() {
    Ledbat l = grownOnALongPath();
    // the same burst behind 30 ms of queue (over half the 40 ms target: other traffic may be there):
    // the window comes down with what is left in flight, as RFC 6817 has it, which is part of yielding
    burst(l, 330);
    assertEquals(3 * UNIT, l.windowBytes());
  }

  @Test
  void aWindowBelowOneRequestSpacesRequestsOut() {
    LedbatConfig c = LedbatConfig.defaults();
    Ledbat l = new Ledbat(c);
    // a queue far over target drives the window to its floor
    l.onAck(0, 40, 1000, 0);
    for (int i = 1; i < 200; i++) {
      l.onAck(i, 400, 64 * 1024, 64 * 1024);
    }
    assertEquals(c.minWindowBytes(), l.windowBytes());
    assertTrue(l.mayRequest(200, 0, 64 * 1024));
    l.onRequestSent(200);
    assertFalse(l.mayRequest(201, 0, 64 * 1024)); // 16 windows' worth: 16 RTTs apart
    assertFalse(l.mayRequest(200 + 400 * 15, 0, 64 * 1024));
    assertTrue(l.mayRequest(200 + 400 * 16, 0, 64 * 1024));
    assertFalse(l.mayRequest(200 + 400 * 16, 1, 64 * 1024)); // and never beside one in flight
  }

  @Test
  void theBaseDelayForgetsAnOldRouteAfterItsHistory() {
    LedbatConfig c = LedbatConfig.defaults();
    Ledbat l = new Ledbat(c);
    l.onAck(0, 20, 1000, 0);
    for (int m = 1; m <= c.baseBuckets(); m++) {
      l.onAck(m * c.baseIntervalMillis(), 80, 1000, 0);
    }
    assertEquals(80, l.baseDelayMillis());
  }

  /**
   * Bench yield's fifth pass: while our window sat at the floor, another flow's sawtooth passed the
   * queue through [target/2, target] and each pass made the floor the window recovery returns to.
   * Now a window is good only if the rate received then is near the best seen.
   */
  @Test
  void aSawtoothPassingTheTargetBandWhileWeYieldDoesNotBecomeTheGoodWindow() {
    LedbatConfig c = LedbatConfig.forRequests();
    long[] good = sawtoothWhileYielding(c);
    assertEquals(good[0], good[1], "the good window before the sawtooth, and after it");
    // before: the same with the queue alone deciding
    LedbatConfig old = new LedbatConfig(40, 1.0, 64 * 1024, 64 * 1024, 12 * 1024, 16L << 20, 60_000, 10, 4, 0.5, 0, 8 * 1024,
        0.5, 0.5);
    long[] overwritten = sawtoothWhileYielding(old);
    assertTrue(overwritten[1] < 0.75 * overwritten[0], "old good window before " + overwritten[0] + ", after " + overwritten[1]);
  }

  /**
   * Alone (40 ms base, 30 ms of queue: in the band, a piece every 25 ms), then another flow's full
   * buffer (400 ms) drives the window to the floor, then its sawtooth passes the band every third
   * sample while we get a piece a second. Returns the good window before the sawtooth and after it.
   */
  static long[] sawtoothWhileYielding(LedbatConfig c) {
    Ledbat l = new Ledbat(c);
    long t = 0;
    for (; t < 10_000; t += 25) {
      l.onAck(t, t < 100 ? 40 : 70, 32 * 1024, l.windowBytes());
    }
    for (; t < 20_000; t += 100) {
      l.onAck(t, 400, 32 * 1024, 0);
    }
    assertEquals(c.minWindowBytes(), l.windowBytes());
    long good = l.goodWindowBytes();
    for (; t < 30_000; t += 1_000) {
      l.onAck(t, (t / 1_000) % 3 == 0 ? 70 : 400, 32 * 1024, 0);
    }
    assertTrue(good > 64 * 1024, "good window before the sawtooth " + good);
    return new long[] {good, l.goodWindowBytes()};
  }

  /**
   * A window below one request is spaced by the current delay (the minimum of the last few samples),
   * not by the last raw sample: one piece that waited behind a burst does not hold the next request
   * back by seconds.
   */
  @Test
  void aSubRequestWindowIsSpacedByTheFilteredDelayNotTheLastSample() {
    LedbatConfig c = LedbatConfig.forRequests();
    Ledbat l = new Ledbat(c);
    l.onAck(0, 40, 1000, 0);
    for (int i = 1; i < 200; i++) {
      l.onAck(i * 10, 400, 64 * 1024, 0);
    }
    assertEquals(c.minWindowBytes(), l.windowBytes());
    l.onAck(2_000, 60, 32 * 1024, 0); // the other flow left: one sample at 60 ms
    l.onAck(2_100, 500, 32 * 1024, 0); // and one that waited behind a burst
    l.onRequestSent(2_100);
    double spacing = l.millisToSend(64 * 1024);
    // 64 KiB over the window at 60 ms, not at 500
    assertEquals(60.0 * 64 * 1024 / l.windowBytes(), spacing, 0.5);
  }
}
