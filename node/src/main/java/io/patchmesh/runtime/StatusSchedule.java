package io.patchmesh.runtime;

/**
 * When the node's status tick (once a second: manifest sync expiry, applies that wait, staging,
 * freshness, the snapshot and the status report) is due. Sans-I/O: {@link NodeTimers} asks it at
 * each wake-up of the loop's timer.
 *
 * <p>A busy node (fetching) runs the tick on a one-second grid. An idle node runs it at any wake-up
 * from {@link #SLACK_MILLIS} before its time, and the tick wakes the loop itself only when no other
 * wake-up came within a window as wide as the membership's probe interval (at least a period, at
 * most {@link #MAX_IDLE_WINDOW_MILLIS}); each run sets the next time a period after it. So the probe
 * always falls in the window and the two share one wake-up, whatever their phases: a seed (a probe
 * a second) runs the tick once a second, an agent (a probe every 2 s) every 2 s. (With a window of
 * 250 ms before the time only, a probe 375 ms before the tick never caught it: two wake-ups a second
 * for as long as the node was idle, BENCHMARKS 12.11; with a window of one period and a probe every
 * 2 s, the tick woke an idle agent on its own 1.5 s after every probe, BENCHMARKS 12.45.) An idle
 * node with nothing else to wake for runs the tick every {@code SLACK_MILLIS} + window.
 */
final class StatusSchedule {
  /** The status tick's period. */
  static final long PERIOD_MILLIS = 1000;
  /** How early the tick may run to share a wake-up. */
  static final long SLACK_MILLIS = PERIOD_MILLIS / 2;
  /** The widest idle window: an idle node's status (the admin snapshot, a changed report) is at most 2.5 s old. */
  static final long MAX_IDLE_WINDOW_MILLIS = 2 * PERIOD_MILLIS;

  /** How long after {@code nextMillis - SLACK_MILLIS} an idle node waits for another wake-up. */
  private final long idleWindowMillis;
  private long nextMillis;

  /** @param probeIntervalMillis how often the membership wakes the loop to probe */
  StatusSchedule(long nowMillis, long probeIntervalMillis) {
    this.idleWindowMillis = Math.min(MAX_IDLE_WINDOW_MILLIS, Math.max(PERIOD_MILLIS, probeIntervalMillis));
    this.nextMillis = nowMillis + PERIOD_MILLIS;
  }

  /**
   * The loop is awake at {@code nowMillis}: true if the status tick runs now (and the next one is
   * then scheduled).
   */
  boolean runNow(long nowMillis, boolean busy) {
    if (busy && nowMillis >= nextMillis) {
      // on the grid while it keeps up; a node that was paused does not run the missed ticks
      nextMillis = Math.max(nextMillis + PERIOD_MILLIS, nowMillis + PERIOD_MILLIS * 3 / 4);
      return true;
    }
    if (!busy && nowMillis >= nextMillis - SLACK_MILLIS) {
      // idle: the next one is a period after this one, so it follows the wake-ups it shares
      nextMillis = nowMillis + PERIOD_MILLIS;
      return true;
    }
    return false;
  }

  /** The latest the loop must wake for the status tick. */
  long wakeByMillis(boolean busy) {
    return busy ? nextMillis : nextMillis - SLACK_MILLIS + idleWindowMillis;
  }
}
