package io.patchmesh.runtime;

/**
 * When the node's status tick (once a second: manifest sync expiry, applies that wait, staging,
 * freshness, the snapshot and the status report) is due. Sans-I/O: {@link NodeTimers} asks it at
 * each wake-up of the loop's timer.
 *
 * <p>A busy node (fetching) runs the tick on a one-second grid. An idle node runs it at any wake-up
 * from {@link #SLACK_MILLIS} before its time, and the tick wakes the loop itself only
 * {@link #SLACK_MILLIS} after its time; each run sets the next time a period after it. The window
 * is as wide as the period, so the membership's probe (one a second) always falls in it and the
 * two share one wake-up, whatever their phases. (With a window of 250 ms before the time only, a
 * probe 375 ms before the tick never caught it: two wake-ups a second for as long as the node was
 * idle; BENCHMARKS 12.11.) An idle node with nothing else to wake for runs the tick every period
 * plus {@link #SLACK_MILLIS}.
 */
final class StatusSchedule {
  /** The status tick's period. */
  static final long PERIOD_MILLIS = 1000;
  /** How early (idle: also how late) the tick may run to share a wake-up. */
  static final long SLACK_MILLIS = PERIOD_MILLIS / 2;

  private long nextMillis;

  StatusSchedule(long nowMillis) {
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
    return busy ? nextMillis : nextMillis + SLACK_MILLIS;
  }
}
