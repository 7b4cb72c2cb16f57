package io.patchmesh.runtime;

/**
 * Which wake-ups of a fetching node run the full housekeeping tick. Sans-I/O: {@link NodeTimers}
 * asks it at each wake-up and after each loop task.
 *
 * <p>A full tick (request clocks, pumping every peer, the WAN link watch's byte counts, redials)
 * runs at the swarm's own deadlines ({@link io.patchmesh.transfer.swarm.FetchTimers#tickDeadlineMillis})
 * and otherwise every {@link #FULL_PERIOD_MILLIS}, for what a tick notices only when it comes (a
 * site-wait running out, the WAN start delay). Between them, a wake-up for the site's Haves alone
 * (chunks gained: due a gap after the last such Have, {@code FetchTimers.SITE_HAVE_GAP_MILLIS}, so
 * mostly at the full tick itself) sends those and nothing else. Before, every wake-up of a fetching node was a full tick, 50 a second (BENCHMARKS 13g, 13k).
 */
final class BusyTicks {
  /** The longest a fetching node goes without a full tick; well inside the swarm's 1 s pause bound. */
  static final long FULL_PERIOD_MILLIS = 100;

  private final long tickMillis;
  private long lastFullMillis = Long.MIN_VALUE;

  /** {@code tickMillis}: the shortest gap between two wake-ups (the loop's housekeeping period). */
  BusyTicks(long tickMillis) {
    this.tickMillis = tickMillis;
  }

  /** When the next full tick is due, given the swarm's earliest deadline. */
  long fullDueMillis(long swarmDeadlineMillis) {
    if (lastFullMillis == Long.MIN_VALUE) {
      return Long.MIN_VALUE; // the first tick of a fetch is a full one
    }
    return Math.min(swarmDeadlineMillis, lastFullMillis + Math.max(tickMillis, FULL_PERIOD_MILLIS));
  }

  /** True if a wake-up at {@code nowMillis} runs the full tick; false: the site's Haves alone. */
  boolean fullNow(long nowMillis, long swarmDeadlineMillis) {
    return nowMillis >= fullDueMillis(swarmDeadlineMillis);
  }

  /** A full tick ran at {@code nowMillis}. */
  void ranFull(long nowMillis) {
    lastFullMillis = nowMillis;
  }

  /**
   * When a fetching node should wake next: the next full tick, or when the site's waiting Haves
   * are due ({@code siteHavesDueMillis}, Long.MAX_VALUE if none; a gap after the last such Have,
   * which the full tick sends too), or {@code otherMillis} (membership, status), never sooner than
   * one period from now.
   */
  long wakeMillis(long nowMillis, long swarmDeadlineMillis, long siteHavesDueMillis, long otherMillis) {
    long next = Math.min(Math.min(fullDueMillis(swarmDeadlineMillis), otherMillis), siteHavesDueMillis);
    return Math.max(next, nowMillis + tickMillis);
  }
}
