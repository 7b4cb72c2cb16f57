package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import java.util.ArrayDeque;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A seed whose own uplink is the bottleneck (10 Mbit/s, 40 ms base RTT, a 300 ms FIFO buffer,
 * virtual time stepped each millisecond) serves two greedy requesters that do not pace themselves
 * (always a piece owed to each), while a person's upload from the seed's office fills the buffer
 * from 20 to 50 s. The seed's {@link UploadPacer} is fed what the driver reads from each TCP
 * connection every 100 ms: the kernel's smoothed RTT (7/8 old + 1/8 of each segment's round
 * trip: the base plus the queue it waited in).
 */
class UploadPacerTest {
  static final double CAPACITY = 1250; // bytes per ms
  static final long BASE_RTT = 40;
  static final double BUFFER = CAPACITY * 300;
  static final int CHUNK = 32 * 1024;

  final NodeId[] peers = {NodeId.of(filled((byte) 1)), NodeId.of(filled((byte) 2))};
  final UploadPacer pacer = new UploadPacer(LedbatConfig.forUploads());
  final ArrayDeque<double[]> queue = new ArrayDeque<>(); // {peer (-1: the other flow), bytes left, enqueuedAt}
  final double[] srtt = {BASE_RTT, BASE_RTT};
  final LinkShareMeter ours = new LinkShareMeter(90_000, CAPACITY);
  /** The queue's delay (ms) at each millisecond: what a ping from the seed's office would add. */
  final double[] queueDelay = new double[90_000];
  double queued;
  boolean cross;
  long now;

  static byte[] filled(byte b) {
    byte[] a = new byte[32];
    Arrays.fill(a, b);
    return a;
  }

  void run(long end) {
    for (; now < end; now++) {
      for (int p = 0; p < peers.length; p++) {
        while (pacer.mayServe(peers[p], now, CHUNK)) {
          pacer.onServed(peers[p], CHUNK, now);
          queue.addLast(new double[] {p, CHUNK, now}); // TCP gets it through, full buffer or not
          queued += CHUNK;
        }
        if (now % 100 == 0) {
          pacer.onRttSample(peers[p], now, Math.round(srtt[p]));
        }
      }
      if (cross && queued < BUFFER) {
        queue.addLast(new double[] {-1, BUFFER - queued, now});
        queued = BUFFER;
      }
      queueDelay[(int) now] = queued / CAPACITY;
      for (double left = CAPACITY; left > 0 && !queue.isEmpty(); ) {
        double[] head = queue.peekFirst();
        double take = Math.min(left, head[1]);
        head[1] -= take;
        left -= take;
        queued -= take;
        if (head[0] >= 0) {
          int p = (int) head[0];
          ours.add(now, take);
          // each ~1.5 KB segment's round trip: the base plus what it waited here
          for (double seg = take; seg > 0; seg -= 1448) {
            srtt[p] = srtt[p] * 7 / 8 + (BASE_RTT + now - head[2]) / 8;
          }
        }
        if (head[1] <= 1e-6) {
          queue.pollFirst();
        }
      }
    }
  }

  double share(long from, long to) {
    return ours.share(from, to);
  }

  double secondsUntil(long from, long end, double share) {
    return ours.secondsUntil(from, end, share);
  }

  @Test
  void aloneTheSeedFillsItsUplinkYieldsToTheOtherFlowAndTakesTheLinkBackWithinFiveSeconds() {
    run(20_000);
    double alone = share(10_000, 20_000);
    assertTrue(alone >= 0.9, "alone " + alone + "; " + pacer.describe());
    cross = true;
    run(50_000);
    double beside = share(25_000, 50_000);
    assertTrue(beside <= 0.1, "beside the other flow " + beside + "; " + pacer.describe());
    cross = false;
    run(70_000);
    double back = secondsUntil(50_000, 70_000, 0.9);
    assertTrue(back >= 0 && back <= 5, "back at 90% after " + back + " s; " + pacer.describe());
  }

  @Test
  void aloneItKeepsThePingWithinTheGoal() {
    run(20_000);
    double[] s = new double[50]; // sampled every 200 ms over the last 10 s, as bench yield's ping
    for (int i = 0; i < s.length; i++) {
      s[i] = queueDelay[10_000 + 200 * i];
    }
    Arrays.sort(s);
    assertTrue(s[47] <= 100, "queue p95 " + s[47] + " ms; " + pacer.describe());
  }

  @Test
  void anUnknownPeerMayBeServedAndForgettingStartsOver() {
    NodeId p = peers[0];
    assertTrue(pacer.mayServe(p, 0, CHUNK));
    assertEquals(pacer.config().initialWindowBytes(), pacer.windowBytes(p));
    pacer.onServed(p, 4 * CHUNK, 0);
    assertTrue(!pacer.mayServe(p, 0, CHUNK), "the bucket is spent");
    pacer.onRttSample(p, 100, 40);
    assertTrue(pacer.nextServeMillis(p, 100, CHUNK) > 100);
    pacer.forget(p);
    assertTrue(pacer.mayServe(p, 100, CHUNK));
  }
}
