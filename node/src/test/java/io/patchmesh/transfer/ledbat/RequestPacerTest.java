package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request pacer against a delay model on virtual time, stepped each millisecond: an agent pulls
 * 64 KiB chunks from a seed across a 10 Mbit/s site link with a 40 ms base RTT and a deep 300 ms
 * buffer (the branch office). A request reaches the seed after half the RTT; its piece
 * joins the bottleneck queue, drains at our share of the link, and arrives half an RTT later — that
 * request-to-piece time is all the pacer sees. The person's download is a greedy loss-based flow
 * that keeps the buffer full while it runs; departures are shared in proportion to each flow's
 * bytes in the queue.
 */
class RequestPacerTest {
  static final double CAPACITY = 1250; // bytes per ms = 10 Mbit/s
  static final long ONE_WAY = 20;
  static final double BUFFER = CAPACITY * 300;
  static final int CHUNK = 64 * 1024;

  final NodeId seed = NodeId.of(filled((byte) 0));
  final ManifestId manifest = ManifestId.of(new byte[ManifestId.LENGTH]);
  final RequestPacer pacer = new RequestPacer(LedbatConfig.ofSetting("ledbat"));

  static byte[] filled(byte b) {
    byte[] a = new byte[32];
    java.util.Arrays.fill(a, b);
    return a;
  }

  /** Requests on their way to the seed: {arrivesAtSeedMillis, index}. */
  final ArrayDeque<long[]> toSeed = new ArrayDeque<>();
  /** The bottleneck's FIFO: {index (-1: the other flow's bytes), bytes left}. */
  final ArrayDeque<double[]> queue = new ArrayDeque<>();
  /** Pieces through the bottleneck, on their way to us: {arrivesMillis, index}. */
  final ArrayDeque<long[]> toUs = new ArrayDeque<>();
  double queued;
  int nextIndex;
  long now;

  /** Steps to {@code endMillis}; returns {our share of the link, mean queuing delay in ms} over the last {@code measureMillis}. */
  double[] run(long endMillis, boolean cross, long measureMillis) {
    double delivered = 0;
    double delaySum = 0;
    long measured = 0;
    for (; now < endMillis; now++) {
      while (!toUs.isEmpty() && toUs.peekFirst()[0] <= now) {
        pacer.onPiece(seed, manifest, (int) toUs.pollFirst()[1], now);
      }
      while (pacer.mayRequest(seed, now, CHUNK)) {
        pacer.onSent(seed, manifest, nextIndex, CHUNK, now);
        toSeed.addLast(new long[] {now + ONE_WAY, nextIndex++});
      }
      while (!toSeed.isEmpty() && toSeed.peekFirst()[0] <= now) {
        queue.addLast(new double[] {toSeed.pollFirst()[1], CHUNK}); // TCP gets our piece through, full buffer or not
        queued += CHUNK;
      }
      if (cross && queued < BUFFER) { // the loss-based flow fills whatever room the buffer has
        queue.addLast(new double[] {-1, BUFFER - queued});
        queued = BUFFER;
      }
      double oursOut = 0;
      for (double left = CAPACITY; left > 0 && !queue.isEmpty(); ) {
        double[] head = queue.peekFirst();
        double take = Math.min(left, head[1]);
        head[1] -= take;
        left -= take;
        queued -= take;
        if (head[0] >= 0) {
          oursOut += take;
        }
        if (head[1] <= 1e-6) {
          queue.pollFirst();
          if (head[0] >= 0) {
            toUs.addLast(new long[] {now + ONE_WAY, (long) head[0]});
          }
        }
      }
      if (endMillis - now <= measureMillis) {
        delivered += oursOut;
        delaySum += queued / CAPACITY;
        measured++;
      }
    }
    return new double[] {delivered / measured / CAPACITY, delaySum / measured};
  }

  @Test
  void aloneItFillsTheLinkAndAddsAtMostTheTargetDelay() {
    double[] r = run(30_000, false, 15_000);
    assertTrue(r[0] >= 0.9, "share of the link " + r[0]);
    assertTrue(r[1] <= 100, "queuing delay " + r[1] + " ms"); // the target, plus part of a piece on average
  }

  @Test
  void itYieldsWithinAFewRttsToAFlowThatFillsTheBufferAndTakesTheLinkBackWhenItLeaves() {
    run(20_000, false, 1);
    long before = pacer.windowBytes(seed);
    // the person's download starts: within 3 s (eight RTTs of the full buffer) the window is down to a tenth
    run(23_000, true, 1);
    assertTrue(pacer.windowBytes(seed) <= before / 10, "window " + pacer.windowBytes(seed) + " of " + before);
    double[] yielded = run(50_000, true, 25_000);
    assertTrue(yielded[0] <= 0.05, "we still took " + yielded[0] * 100 + "% of the link");
    // it stops: within 3 s we fill the link again, and keep it full at the target delay
    run(53_000, false, 1);
    double[] back = run(60_000, false, 7_000);
    assertTrue(back[0] >= 0.9, "share " + back[0] + " after the other flow left");
    assertTrue(back[1] <= 100, "queuing delay " + back[1] + " ms");
  }

  @Test
  void requestsTheSeedNoLongerOwesLeaveTheWindow() {
    pacer.onSent(seed, manifest, 1, CHUNK, 0);
    pacer.onSent(seed, manifest, 2, CHUNK, 0);
    pacer.onSent(seed, manifest, 3, CHUNK, 0);
    assertEquals(3L * CHUNK, pacer.inFlightBytes(seed));
    pacer.reconcile(seed, manifest, 1); // the picker expired or cancelled two of them
    assertEquals(CHUNK, pacer.inFlightBytes(seed));
    pacer.onPiece(seed, manifest, 3, 100); // the newest one is what is left, and its piece is a sample
    assertEquals(0, pacer.inFlightBytes(seed));
    assertEquals(0, pacer.queuingDelayMillis(seed));
    pacer.onSent(seed, manifest, 4, CHUNK, 200);
    pacer.dropSession(manifest);
    assertEquals(0, pacer.inFlightBytes(seed));
  }

  @Test
  void aPieceWeDidNotAskForIsNoSample() {
    List<Long> windows = new ArrayList<>();
    pacer.onSent(seed, manifest, 1, CHUNK, 0);
    windows.add(pacer.windowBytes(seed));
    pacer.onPiece(seed, manifest, 9, 50);
    pacer.onPiece(NodeId.of(filled((byte) 1)), manifest, 1, 50);
    windows.add(pacer.windowBytes(seed));
    assertEquals(windows.get(0), windows.get(1));
    assertEquals(CHUNK, pacer.inFlightBytes(seed));
  }

  @Test
  void offMeansNoPacer() {
    assertEquals(null, LedbatConfig.ofSetting("off"));
  }
}
