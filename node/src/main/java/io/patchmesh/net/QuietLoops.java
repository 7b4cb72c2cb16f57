package io.patchmesh.net;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Lets an idle Netty event loop sleep until it has work. Netty 4.2's loops wait at most a second
 * when nothing is scheduled on them (the wait is capped by the scheduled-task purge interval), so an
 * idle agent's I/O and admin threads each woke once a second for nothing ({@code epoll_wait(..., 1000)
 * = 0} in strace, BENCHMARKS §12.11). A no-op scheduled an hour ahead on each loop gives the loop a
 * real deadline to wait for instead; any I/O, task or earlier timer still wakes it at once.
 */
public final class QuietLoops {
  /** How far ahead the keep-asleep task runs (it re-arms itself at this period). */
  static final long PARK_MINUTES = 60;

  private QuietLoops() {}

  /** Schedules the far-off no-op on every loop of the group (cancelled when the group shuts down). */
  public static void park(EventLoopGroup group) {
    for (EventExecutor loop : group) {
      loop.scheduleAtFixedRate(QuietLoops::nothing, PARK_MINUTES, PARK_MINUTES, TimeUnit.MINUTES);
    }
  }

  private static void nothing() {}
}
