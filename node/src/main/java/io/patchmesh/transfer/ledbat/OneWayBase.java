package io.patchmesh.transfer.ledbat;

import java.util.ArrayDeque;

/**
 * The least one-way delay seen from one WAN source, as LEDBAT keeps its base delay (RFC 6817 §3.4.2):
 * the minimum per bucket of {@code intervalMillis}, over the last {@code buckets} of them, so a clock
 * that was stepped or drifted, or a route that changed, is forgotten after the history's length. A
 * one-way delay here is the requester's wall clock at a piece's arrival less the sender's stamp
 * ({@link RequestPacer#onOneWayDelay}): the two clocks' offset is in every sample and cancels in
 * the difference from this minimum. Sans-I/O.
 */
final class OneWayBase {
  private final long intervalMillis;
  private final int buckets;
  private final ArrayDeque<long[]> history = new ArrayDeque<>(); // {bucketStartMillis, min}, oldest first

  OneWayBase(long intervalMillis, int buckets) {
    this.intervalMillis = intervalMillis;
    this.buckets = buckets;
  }

  /** Adds {@code delayMillis}, seen at {@code now}. */
  void add(long now, long delayMillis) {
    long[] last = history.peekLast();
    if (last == null || now - last[0] >= intervalMillis) {
      history.addLast(new long[] {now, delayMillis});
      while (history.size() > buckets) {
        history.removeFirst();
      }
    } else {
      last[1] = Math.min(last[1], delayMillis);
    }
  }

  /** The least delay over the history; Long.MAX_VALUE before any. */
  long minMillis() {
    long min = Long.MAX_VALUE;
    for (long[] b : history) {
      min = Math.min(min, b[1]);
    }
    return min;
  }
}
