package io.patchmesh.runtime;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
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

  private final ScheduledThreadPoolExecutor loop;
  private final ExecutorService workers;
  private final LongSupplier clock;
  private volatile Thread loopThread;
  /** Runs on the loop after every loop task (see {@link #afterEachTask}). */
  private volatile Runnable afterTask = () -> { };

  public NodeLoop(String name, int workerThreads, LongSupplier clockMillis) {
    this.clock = clockMillis;
    this.loop =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "pm-loop-" + name);
              t.setDaemon(true);
              loopThread = t;
              return t;
            });
    // A cancelled timer leaves the queue at once: otherwise the loop would still wake at its time.
    loop.setRemoveOnCancelPolicy(true);
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

  /**
   * {@code hook} runs on the loop after every task the loop runs (inputs, timers): the node's timers
   * re-read their deadlines there, since any input may have made work due sooner. Keep it cheap.
   */
  public void afterEachTask(Runnable hook) {
    this.afterTask = hook;
  }

  /** Runs on the loop; exceptions are logged, never swallowed silently. */
  public void execute(Runnable task) {
    if (loop.isShutdown()) {
      return;
    }
    try {
      loop.execute(onLoop(task));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  public ScheduledFuture<?> every(long periodMillis, Runnable task) {
    return loop.scheduleWithFixedDelay(onLoop(task), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code task} on the loop in {@code delayMillis}; null if the loop is shutting down. Cancel to drop it. */
  public ScheduledFuture<?> later(long delayMillis, Runnable task) {
    if (!loop.isShutdown()) {
      try {
        return loop.schedule(onLoop(task), delayMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // shutting down
      }
    }
    return null;
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

  private Runnable onLoop(Runnable task) {
    return () -> {
      runLogged(task);
      runLogged(afterTask);
    };
  }

  private static void runLogged(Runnable task) {
    try {
      task.run();
    } catch (Throwable t) {
      log.error("unexpected error in node task", t);
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
