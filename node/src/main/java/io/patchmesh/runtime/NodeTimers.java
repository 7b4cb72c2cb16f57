package io.patchmesh.runtime;

import io.patchmesh.inventory.SoftwareReporter;
import io.patchmesh.memory.LibraryPages;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The node's clocks, all on the loop and on ONE timer: the housekeeping tick (membership timers,
 * the swarm's request clocks, pumping and Have batching), the status tick (manifest sync expiry,
 * applies that wait, staging, freshness, the snapshot and the status report: every second while
 * fetching, at the probe's wake-ups when idle) and the cache collection.
 *
 * <p>While fetching, the node wakes every {@code tickMillis} at most; the full housekeeping tick
 * runs at the swarm's deadlines and at least every {@link BusyTicks#FULL_PERIOD_MILLIS}, and a
 * wake-up in between only tells the site's agents of the chunks gained ({@link BusyTicks}). An idle node sleeps until
 * the earliest deadline that has work (a probe, a suspicion, news to gossip, the status tick), not
 * on a fixed period: an idle agent is woken by its own timers once per probe (every 2 s; the status
 * tick rides on it) plus the frames it receives. Any loop task may make work due sooner (a frame that queues news, a session that
 * starts), so the deadline is re-read after every loop task ({@link NodeLoop#afterEachTask}).
 */
final class NodeTimers {
  /** {@code -Dpatchmesh.library-pages=keep}: an agent keeps its libraries' pages ({@link LibraryPages}). */
  static final String LIBRARY_PAGES_PROPERTY = "patchmesh.library-pages";
  static final long LIBRARY_PAGES_FIRST_MILLIS = 60_000;
  static final long LIBRARY_PAGES_PERIOD_MILLIS = 5 * 60_000;
  private final RuntimeOptions options;
  private final NodeLoop loop;
  private final BooleanSupplier closed;
  private final FrameRouter.Targets to;
  private final FreshnessWatch freshness;
  private final CacheCollector gc;
  /** The one pending wake-up and when it is due (loop thread only). */
  private ScheduledFuture<?> pending;
  private long pendingAt = Long.MAX_VALUE;
  /** When the status tick is due (loop thread only; set at start). */
  private StatusSchedule status;
  /** How late the wake-ups fire (loop thread only); for {@link #lateMillis}. */
  private final LoopLateness lateness = new LoopLateness();
  /** Which wake-ups of a fetching node run the full tick (loop thread only). */
  private final BusyTicks busyTicks;
  /** The membership's probe interval: an idle node's status tick rides on the probe's wake-up ({@link StatusSchedule}). */
  private final long probeIntervalMillis;

  NodeTimers(RuntimeOptions options, NodeLoop loop, BooleanSupplier closed, FrameRouter.Targets to, FreshnessWatch freshness,
      CacheCollector gc, long probeIntervalMillis) {
    this.options = options;
    this.loop = loop;
    this.closed = closed;
    this.to = to;
    this.freshness = freshness;
    this.gc = gc;
    this.busyTicks = new BusyTicks(options.tickMillis());
    this.probeIntervalMillis = probeIntervalMillis;
  }

  void start() {
    loop.execute(() -> {
      status = new StatusSchedule(loop.now(), probeIntervalMillis);
      loop.afterEachTask(this::rearm);
      schedule(loop.now() + options.tickMillis());
    });
    loop.every(CacheCollector.INTERVAL_MILLIS, () -> gc.collect());
    if (!options.isSeed() && !"keep".equals(System.getProperty(LIBRARY_PAGES_PROPERTY))) {
      // an agent's native libraries' clean pages, given back a minute after the start and every 5 minutes
      // (what it runs comes back at its next touch; LibraryPages)
      loop.later(LIBRARY_PAGES_FIRST_MILLIS, () -> LibraryPages.open().ifPresent(pages -> {
        pages.drop();
        loop.every(LIBRARY_PAGES_PERIOD_MILLIS, pages::drop);
      }));
    }
  }

  /** The timer fired: the housekeeping tick, and the status tick if it is due (or nearly, when idle). */
  private void wake() {
    long now = loop.now();
    lateness.fired(now);
    pending = null;
    pendingAt = Long.MAX_VALUE;
    if (closed.getAsBoolean()) {
      return;
    }
    to.swarm().counts().wakes++;
    if (to.swarm().busy() && !busyTicks.fullNow(now, to.swarm().tickDeadlineMillis(now))) {
      to.swarm().counts().haveWakes++;
      to.mesh().tick();
      if (now >= to.swarm().siteHavesDueMillis()) {
        to.swarm().flushSiteHaves(); // the only swarm work due: chunks gained since the last Have
      }
    } else {
      tick();
    }
    if (status.runNow(now, to.swarm().busy())) {
      statusTick();
    }
    // the next wake-up is set by rearm(), which the loop runs after this task
  }

  /**
   * When the timer should fire next: while fetching, at the next full tick or, with Haves for the
   * site waiting, when they are due (see {@link BusyTicks}), else at the earliest
   * of the membership's next timer with work and the latest the status tick may wait for another
   * wake-up ({@link StatusSchedule}).
   */
  private long nextWakeMillis(long now) {
    if (to.swarm().busy()) {
      long other = Math.min(status.wakeByMillis(true), to.mesh().membership().nextTimerMillis());
      return busyTicks.wakeMillis(now, to.swarm().tickDeadlineMillis(now), to.swarm().siteHavesDueMillis(), other);
    }
    long next = Math.min(status.wakeByMillis(false), to.mesh().membership().nextTimerMillis());
    return Math.max(next, now + options.tickMillis()); // a deadline in the past runs at the next tick, not in a spin
  }

  /**
   * Re-reads the deadline after a loop task: moves the timer earlier if work became due sooner,
   * and, while idle, later if what it waited for went away (an Ack answered the probe whose
   * timeout it waited for). A wake-up at most one busy period away is left alone (else a stream of
   * inputs could push a due tick back forever), and while busy the timer only moves earlier.
   */
  private void rearm() {
    if (closed.getAsBoolean()) {
      return;
    }
    long now = loop.now();
    if (pending != null && pendingAt <= now + options.tickMillis()) {
      return; // due within a period: no wake-up can be sooner, and a busy node's is never moved later
    }
    long due = nextWakeMillis(now);
    boolean sooner = due < pendingAt;
    boolean later = due > pendingAt && pendingAt > now + options.tickMillis() && !to.swarm().busy();
    if (pending == null || sooner || later) {
      schedule(due);
    }
  }

  private void schedule(long at) {
    if (pending != null) {
      pending.cancel(false);
    }
    long now = loop.now();
    pendingAt = at;
    lateness.armed(now, at);
    pending = loop.later(Math.max(0, at - now), this::wake);
  }

  /** How late the loop runs at {@code now} (loop thread), in ms ({@link LoopLateness}). */
  long lateMillis(long now) {
    return lateness.lateMillis(now);
  }

  /** Runs a tick now if the next one is further away than a busy node's period (work just arrived). */
  void kick() {
    if (!closed.getAsBoolean() && pendingAt - loop.now() > options.tickMillis()) {
      loop.execute(this::tick); // not from inside the caller: the swarm is mid-update
    }
  }

  private void tick() {
    if (closed.getAsBoolean()) {
      return;
    }
    to.mesh().tick();
    to.swarm().tick();
    busyTicks.ranFull(loop.now());
    if (to.swarm().busy()) {
      to.swarm().counts().fullTicks++;
    }
  }

  private void statusTick() {
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
