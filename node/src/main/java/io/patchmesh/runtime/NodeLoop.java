package io.patchmesh.runtime;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's threads. All protocol state (membership, transfer sessions,
 * status) lives on ONE loop thread, so it needs no locks; Netty callbacks hop
 * onto it. Slow work (store reads and writes, hashing, assembly, install
 * commands, manifest verification) runs on a small worker pool and posts its
 * result back to the loop.
 */
public final class NodeLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLoop.class);

  private final ScheduledExecutorService loop;
  private final ExecutorService workers;
  private final LongSupplier clock;
  private volatile Thread loopThread;

  public NodeLoop(String name, int workerThreads, LongSupplier clockMillis) {
    this.clock = clockMillis;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "pm-loop-" + name);
              t.setDaemon(true);
              loopThread = t;
              return t;
            });
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            workerThreads,
            r -> {
              Thread t = new Thread(r, "pm-work-" + name + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  public long now() {
    return clock.getAsLong();
  }

  public boolean inLoop() {
    return Thread.currentThread() == loopThread;
  }

  /** Runs on the loop; exceptions are logged, never swallowed silently. */
  public void execute(Runnable task) {
    if (loop.isShutdown()) {
      return;
    }
    try {
      loop.execute(guard(task));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  public ScheduledFuture<?> every(long periodMillis, Runnable task) {
    return loop.scheduleWithFixedDelay(guard(task), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  public void later(long delayMillis, Runnable task) {
    if (!loop.isShutdown()) {
      try {
        loop.schedule(guard(task), delayMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // shutting down
      }
    }
  }

  /** Runs on a worker; exceptions are logged. */
  public void work(Runnable task) {
    if (workers.isShutdown()) {
      return;
    }
    try {
      workers.execute(guard(task));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  private static Runnable guard(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (Throwable t) {
        log.error("unexpected error in node task", t);
      }
    };
  }

  @Override
  public void close() {
    loop.shutdownNow();
    workers.shutdownNow();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
