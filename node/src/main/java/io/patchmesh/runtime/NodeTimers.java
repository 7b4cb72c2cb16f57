package io.patchmesh.runtime;

import io.patchmesh.inventory.SoftwareReporter;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The node's clocks, all on the loop: the housekeeping tick (membership timers, the swarm's request
 * clocks, pumping and Have batching), the status tick every second (manifest sync expiry, applies
 * that wait, staging, freshness, the snapshot and the status report) and the cache collection.
 */
final class NodeTimers {
  /**
   * Longest the housekeeping tick sleeps while nothing is being fetched. Fetching ticks every
   * {@code tickMillis} (request clocks, pumping, Have batching); an idle node wakes only for its
   * membership timers and at least this often, so a hundred idle agents on one machine cost
   * little (at a fixed 20 ms the tick was most of an idle agent's CPU).
   */
  static final long IDLE_TICK_MILLIS = 250;
  /** The status tick's period. */
  static final long STATUS_TICK_MILLIS = 1000;

  private final RuntimeOptions options;
  private final NodeLoop loop;
  private final BooleanSupplier closed;
  private final FrameRouter.Targets to;
  private final FreshnessWatch freshness;
  private final CacheCollector gc;
  /** When the housekeeping tick runs next (loop thread only). */
  private long nextTickMillis;

  NodeTimers(RuntimeOptions options, NodeLoop loop, BooleanSupplier closed, FrameRouter.Targets to, FreshnessWatch freshness,
      CacheCollector gc) {
    this.options = options;
    this.loop = loop;
    this.closed = closed;
    this.to = to;
    this.freshness = freshness;
    this.gc = gc;
  }

  void start() {
    loop.later(options.tickMillis(), this::tickAndReschedule);
    loop.every(STATUS_TICK_MILLIS, this::statusTick);
    loop.every(CacheCollector.INTERVAL_MILLIS, gc::collect);
  }

  private void tickAndReschedule() {
    if (closed.getAsBoolean()) {
      return;
    }
    long delay = options.tickMillis();
    try {
      tick();
      if (!to.swarm().busy()) {
        long untilTimer = to.mesh().membership().nextTimerMillis() - loop.now();
        delay = Math.max(options.tickMillis(), Math.min(IDLE_TICK_MILLIS, untilTimer));
      }
    } finally {
      // Rescheduled even if the tick threw (the loop logs it): one bad tick must not stop the node's clock.
      nextTickMillis = loop.now() + delay;
      loop.later(delay, this::tickAndReschedule);
    }
  }

  /** Runs a tick now if the next one is further away than a busy node's period (work just arrived). */
  void kick() {
    if (!closed.getAsBoolean() && nextTickMillis - loop.now() > options.tickMillis()) {
      loop.execute(this::tick); // not from inside the caller: the swarm is mid-update
    }
  }

  private void tick() {
    if (closed.getAsBoolean()) {
      return;
    }
    to.mesh().tick();
    to.swarm().tick();
  }

  private void statusTick() {
    if (closed.getAsBoolean()) {
      return;
    }
    to.sync().expire();
    to.apply().retryWaiting();
    to.apply().staging().update();
    if (freshness.recheck(loop.now())) {
      to.status().changed();
    }
    to.status().refreshSnapshot(to.swarm().sessions(), to.mesh().membership(), s -> to.apply().state(s.id));
    SoftwareReporter software = to.software().get();
    to.status().report(software);
  }
}
