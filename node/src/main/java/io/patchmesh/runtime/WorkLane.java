package io.patchmesh.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chunk work (hash and store a received piece, read a chunk to serve) from the node loop to the
 * workers, and its results back, with as few hand-offs between threads as the work allows. A job
 * posted while no worker runs the lane hands the pool one task; jobs posted while it runs ride
 * along in it, without a task, a queue lock or a worker's wake-up of their own. The task runs the
 * jobs' worker parts in order and hands their loop parts to the loop together, {@link
 * #RESULTS_PER_POST} at most per hand-off (one loop input, one carry-out of the swarm's decisions),
 * so a burst of pieces costs the loop one wake-up, not one each (BENCHMARKS 13o).
 *
 * <p>One worker at a time runs the lane: chunk jobs are short (SHA-256 and a file write or read of
 * one chunk), and the pool's other worker stays free for what is long (an apply, a manifest check).
 * Before, each job was its own pool task: two workers woke in turn for a stream of pieces and each
 * result was a loop input of its own. A task runs at most {@link #MAX_PER_TASK} jobs, then hands the
 * pool another for the rest, so other work queued on the pool gets a turn. A worker part that
 * throws is logged and its job yields no loop part; the rest go on.
 */
final class WorkLane {
  private static final Logger log = LoggerFactory.getLogger(WorkLane.class);
  /** Loop parts handed to the loop in one input at most: the first result is not held long. */
  static final int RESULTS_PER_POST = 8;
  /** Jobs one pool task runs at most before the pool's other tasks get a turn. */
  static final int MAX_PER_TASK = 64;

  private final Consumer<Runnable> pool;
  private final Consumer<Runnable> loop;
  private final Queue<Supplier<Runnable>> queue = new ConcurrentLinkedQueue<>();
  /** True while a task to drain the queue is handed to the pool and has not finished. */
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /**
   * {@code pool}: hands a task to the workers; {@code loop}: hands the loop parts of a batch of jobs
   * to the loop as one input (the swarm's results inbox, which carries out once after them).
   */
  WorkLane(Consumer<Runnable> pool, Consumer<Runnable> loop) {
    this.pool = pool;
    this.loop = loop;
  }

  /** Queues {@code job} (any thread): its worker part runs on a worker and returns its loop part (or null). */
  void post(Supplier<Runnable> job) {
    queue.add(job);
    if (scheduled.compareAndSet(false, true)) {
      pool.accept(this::drain);
    }
  }

  /** On a worker: runs the queued jobs in order, up to {@link #MAX_PER_TASK}, their results in batches. */
  private void drain() {
    List<Runnable> done = new ArrayList<>(RESULTS_PER_POST);
    try {
      for (int i = 0; i < MAX_PER_TASK; i++) {
        Supplier<Runnable> job = queue.poll();
        if (job == null) {
          break;
        }
        try {
          Runnable r = job.get();
          if (r != null) {
            done.add(r);
          }
        } catch (Throwable t) {
          log.error("unexpected error in chunk work", t);
        }
        if (done.size() >= RESULTS_PER_POST) {
          hand(done);
          done = new ArrayList<>(RESULTS_PER_POST);
        }
      }
    } finally {
      if (!done.isEmpty()) {
        hand(done);
      }
      scheduled.set(false);
    }
    // a job posted after the last poll found the task still scheduled and handed none: this one does
    if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
      pool.accept(this::drain);
    }
  }

  private void hand(List<Runnable> results) {
    loop.accept(() -> {
      for (Runnable r : results) {
        try {
          r.run();
        } catch (Throwable t) {
          log.error("unexpected error in node task", t);
        }
      }
    });
  }
}
