package io.patchmesh.runtime;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inputs from the transport threads to the node loop, in one queue, run in the order posted. The
 * first input posted to an empty inbox hands the loop one task, which runs every input queued by
 * then (and those that arrive while it runs, up to {@link #MAX_PER_TASK}); the rest of a burst
 * (the frames of one socket read, or of reads of several links while the loop was busy) rides
 * along without a task, a queue lock, a wake-up or a timer re-read of its own (BENCHMARKS 13k).
 * Before, each frame was its own loop task.
 *
 * <p>A task runs at most {@link #MAX_PER_TASK} inputs, then hands the loop another for the rest,
 * so the loop's timers and workers' results are not held behind a flood. An input that throws is
 * logged and the next runs.
 *
 * <p>An input that arrives on the loop itself ({@link #runOrPost}: an agent's frames, decoded on its one
 * I/O loop) outside any loop task, with nothing queued before it, runs at once instead: a queue node,
 * a loop task and its wrapper less per frame, in the same order (BENCHMARKS 13aq). One that arrives
 * while another runs so is queued, so no input runs inside another.
 */
final class LoopInbox {
  private static final Logger log = LoggerFactory.getLogger(LoopInbox.class);
  /** The most inputs one loop task runs before the loop's other tasks get a turn. */
  static final int MAX_PER_TASK = 64;

  private final Consumer<Runnable> loop;
  private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
  /** True while a task to drain the queue is handed to the loop and has not finished. */
  private final AtomicBoolean scheduled = new AtomicBoolean();
  /** True on the loop when an input may run at once: on the loop, outside any loop task. */
  private final BooleanSupplier mayRunNow;
  /** Runs an input at once, as a loop task would (with what the loop runs after each task). */
  private final Consumer<Runnable> runNow;
  /** True while an input runs at once (loop thread only). */
  private boolean runningNow;

  /** {@code loop}: hands a task to the node loop (its {@code execute}). Every input is queued. */
  LoopInbox(Consumer<Runnable> loop) {
    this(loop, () -> false, Runnable::run);
  }

  /**
   * {@code mayRunNow}: true when called on the loop outside any loop task; {@code runNow}: runs an
   * input there as a loop task would ({@link NodeLoop#runNow}).
   */
  LoopInbox(Consumer<Runnable> loop, BooleanSupplier mayRunNow, Consumer<Runnable> runNow) {
    this.loop = loop;
    this.mayRunNow = mayRunNow;
    this.runNow = runNow;
  }

  /**
   * Runs {@code input} now if the loop may ({@code mayRunNow}), nothing is queued or draining before
   * it and no other input is running now; else queues it ({@link #post}).
   */
  void runOrPost(Runnable input) {
    if (!runningNow && queue.isEmpty() && !scheduled.get() && mayRunNow.getAsBoolean()) {
      runningNow = true;
      try {
        runNow.accept(input);
      } catch (Throwable t) {
        log.error("unexpected error in node task", t);
      } finally {
        runningNow = false;
      }
    } else {
      post(input);
    }
  }

  /** Queues {@code input} for the loop (any thread). */
  void post(Runnable input) {
    queue.add(input);
    if (scheduled.compareAndSet(false, true)) {
      loop.accept(this::drain);
    }
  }

  /** On the loop: runs the queued inputs, in order, up to {@link #MAX_PER_TASK}. */
  private void drain() {
    for (int i = 0; i < MAX_PER_TASK; i++) {
      Runnable input = queue.poll();
      if (input == null) {
        break;
      }
      try {
        input.run();
      } catch (Throwable t) {
        log.error("unexpected error in node task", t);
      }
    }
    scheduled.set(false);
    // an input posted after the last poll found the task still scheduled and handed none: this one does
    if (!queue.isEmpty() && scheduled.compareAndSet(false, true)) {
      loop.accept(this::drain);
    }
  }
}
