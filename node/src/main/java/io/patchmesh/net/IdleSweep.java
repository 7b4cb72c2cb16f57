package io.patchmesh.net;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The transport's one idle timer. Every third of the idle timeout it walks every connection
 * ({@link LinkDispatcher#sweep}) and closes what is dead: a connection that is no link and received
 * nothing for the idle timeout, one that holds part of a frame and has received nothing for the idle timeout, and,
 * on links that keep alive with Keepalive frames, a control connection that received nothing for
 * the idle timeout; and it sends those links their Keepalive.
 *
 * <p>It replaces a Netty {@code IdleStateHandler} per connection, whose reader- and writer-idle
 * timers woke an I/O thread per connection (and a Keepalive woke both ends' I/O threads and sealed
 * a TLS record at each end): about 0.1 wake-ups a second and 0.001 % of a core per idle link,
 * linear in the links held, which tend to the fleet's size (BENCHMARKS 12.5). Now an idle node wakes
 * once per sweep whatever it holds, and between two nodes that both keep alive by the kernel
 * (Hello.keepalive_by_kernel, {@link PathLiveness}) an idle link costs no wake-up at all.
 */
final class IdleSweep {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(IdleSweep.class);
  private final Set<LinkDispatcher> connections = ConcurrentHashMap.newKeySet();
  private final long idleNanos;
  private final boolean keepsAliveByKernel;
  private ScheduledFuture<?> timer;

  /**
   * @param idleTimeout the transport's idle timeout
   * @param keepsAliveByKernel our connections have the kernel's TCP keepalive (we say so in our Hellos)
   */
  IdleSweep(Duration idleTimeout, boolean keepsAliveByKernel) {
    this.idleNanos = idleTimeout.toNanos();
    this.keepsAliveByKernel = keepsAliveByKernel;
  }

  /** Sweeps every third of the idle timeout on {@code loop} until {@link #stop}. */
  synchronized void start(EventLoop loop) {
    long period = Math.max(1, idleNanos / 3);
    try {
      timer = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  synchronized void stop() {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  boolean keepsAliveByKernel() {
    return keepsAliveByKernel;
  }

  long idleNanos() {
    return idleNanos;
  }

  void add(LinkDispatcher connection) {
    connections.add(connection);
  }

  void remove(LinkDispatcher connection) {
    connections.remove(connection);
  }

  /** Connections now swept (tests). */
  int size() {
    return connections.size();
  }

  /** One pass over every connection; any thread. */
  void sweep() {
    long now = System.nanoTime();
    for (LinkDispatcher connection : connections) {
      try {
        connection.sweep(now);
      } catch (RuntimeException e) {
        log.warn("idle sweep failed for a connection", e);
      }
    }
  }
}
