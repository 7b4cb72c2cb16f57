package io.patchmesh.runtime;

import io.patchmesh.net.IoLoops;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
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
 *
 * <p>The loop is either a thread of its own ({@link #NodeLoop(String, int, LongSupplier)}; seeds) or an
 * agent's one Netty I/O event loop ({@link #onIoLoop}), which then also runs all of the agent's sockets:
 * a frame read and the protocol's answer to it, and the sends of a loop task, then need no hand-off
 * between threads (BENCHMARKS 13q). Either way a task posted with {@link #execute} from the loop is queued
 * and runs after the current task (or the current Netty callback) ends, never inside it.
 */
public final class NodeLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLoop.class);

  private final ScheduledExecutorService loop;
  /** Non-null when the loop is a Netty I/O loop: the loops the transport runs on (this owns them). */
  private final IoLoops io;
  private final ExecutorService workers;
  private final LongSupplier clock;
  private volatile Thread loopThread;
  /** Set by {@link #close}: tasks still queued on a shared I/O loop then do nothing. */
  private volatile boolean closed;
  /** Runs on the loop after every loop task (see {@link #afterEachTask}). */
  private volatile Runnable afterTask = () -> { };
  /** True while the loop runs one of its own tasks, or {@link #runNow} (loop thread only). */
  private boolean inTask;

  /** A loop thread of its own ("pm-loop-NAME"), beside whatever I/O threads the transport has. */
  public NodeLoop(String name, int workerThreads, LongSupplier clockMillis) {
    this(name, workerThreads, clockMillis, null);
  }

  /**
   * The loop runs on a new single-thread Netty I/O loop ("pm-loop-NAME-…"); hand {@link #ioLoops()} to
   * the transport. {@link #close} shuts that loop down: close the transport first.
   */
  public static NodeLoop onIoLoop(String name, int workerThreads, LongSupplier clockMillis) {
    return new NodeLoop(name, workerThreads, clockMillis, IoLoops.create(1, "pm-loop-" + name));
  }

  private NodeLoop(String name, int workerThreads, LongSupplier clockMillis, IoLoops io) {
    this.clock = clockMillis;
    this.io = io;
    if (io != null) {
      this.loop = io.single();
    } else {
      ScheduledThreadPoolExecutor own =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "pm-loop-" + name);
                t.setDaemon(true);
                loopThread = t;
                return t;
              });
      // A cancelled timer leaves the queue at once: otherwise the loop would still wake at its time.
      // (Netty's loop removes a cancelled timer itself.)
      own.setRemoveOnCancelPolicy(true);
      this.loop = own;
    }
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

  /** The I/O loops the loop runs on, for the transport; null when the loop has a thread of its own. */
  public IoLoops ioLoops() {
    return io;
  }

  public long now() {
    return clock.getAsLong();
  }

  public boolean inLoop() {
    return io != null ? io.single().inEventLoop() : Thread.currentThread() == loopThread;
  }

  /**
   * True on an agent's I/O loop in Netty's own callbacks (a frame decoded), outside any task of the
   * node's: an input may then run at once ({@link #runNow}) rather than as a task of its own.
   */
  public boolean outsideTaskOnIo() {
    return io != null && !inTask && io.single().inEventLoop();
  }

  /**
   * Runs {@code task} now, as a loop task would run (logged, then the {@link #afterEachTask} hook);
   * call only where {@link #outsideTaskOnIo} is true.
   */
  public void runNow(Runnable task) {
    if (closed) {
      return;
    }
    inTask = true;
    try {
      runLogged(task);
      runLogged(afterTask);
    } finally {
      inTask = false;
    }
  }

  /**
   * {@code hook} runs on the loop after every task the loop runs (inputs, timers): the node's timers
   * re-read their deadlines there, since any input may have made work due sooner. Keep it cheap.
   */
  public void afterEachTask(Runnable hook) {
    this.afterTask = hook;
  }

  /** Runs on the loop, after the task running now if called on it; exceptions are logged, never swallowed silently. */
  public void execute(Runnable task) {
    if (closed || loop.isShutdown()) {
      return;
    }
    try {
      loop.execute(onLoop(task));
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  public ScheduledFuture<?> every(long periodMillis, Runnable task) {
    return loop.scheduleWithFixedDelay(onLoop(task), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code task} on the loop in {@code delayMillis}; null if the loop is shutting down. Cancel to drop it. */
  public ScheduledFuture<?> later(long delayMillis, Runnable task) {
    if (!closed && !loop.isShutdown()) {
      try {
        return loop.schedule(onLoop(task), delayMillis, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
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
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  private Runnable onLoop(Runnable task) {
    return () -> {
      if (closed) {
        return; // a shared I/O loop still runs the transport's last tasks (Goodbyes) after close
      }
      boolean outer = !inTask;
      inTask = true;
      try {
        runLogged(task);
        runLogged(afterTask);
      } finally {
        if (outer) {
          inTask = false;
        }
      }
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

  /**
   * Stops the loop and the workers; queued loop tasks and timers do not run. On an I/O loop the
   * transport's own queued writes (Goodbyes) still go out in a short quiet period, then its channels close.
   */
  @Override
  public void close() {
    closed = true;
    boolean onLoop = inLoop();
    if (io != null) {
      io.group().shutdownGracefully(50, 2000, TimeUnit.MILLISECONDS);
    } else {
      loop.shutdownNow();
    }
    workers.shutdownNow();
    if (onLoop) {
      return; // the loop cannot wait for itself
    }
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
