package io.patchmesh.runtime;

/**
 * How late the node's loop runs, from its one wake-up timer: how overdue the pending wake-up is
 * (its timer could not run: the thread was starved of CPU, or busy with what arrived before), or
 * how late the last one fired if that was at most that long ago (the backlog it left is still being
 * worked through). 0 when the loop keeps time. A lower bound: while idle the wake-up may be a second
 * away. Read by the request pacer with each WAN piece (wan-yield: a piece that waited in our own
 * socket is no queue at the site link). Sans-I/O, fed the loop's clock; loop thread only.
 */
final class LoopLateness {
  /** When the pending wake-up was set to fire (never before it was set); MAX_VALUE: none pending. */
  private long firesAt = Long.MAX_VALUE;
  /** How late the last wake-up fired, and when. */
  private long lastLateMillis;
  private long lastWakeMillis = Long.MIN_VALUE;

  /** A wake-up was set at {@code now} for {@code at} (in the past: at once). */
  void armed(long now, long at) {
    firesAt = Math.max(at, now);
  }

  /** The pending wake-up fired at {@code now}. */
  void fired(long now) {
    lastLateMillis = firesAt == Long.MAX_VALUE ? 0 : Math.max(0, now - firesAt);
    lastWakeMillis = now;
    firesAt = Long.MAX_VALUE;
  }

  /** How late the loop runs at {@code now}, in ms. */
  long lateMillis(long now) {
    long overdue = firesAt == Long.MAX_VALUE ? 0 : Math.max(0, now - firesAt);
    long backlog = lastWakeMillis != Long.MIN_VALUE && now - lastWakeMillis <= lastLateMillis ? lastLateMillis : 0;
    return Math.max(overdue, backlog);
  }
}
