package io.patchmesh.runtime;

import java.util.concurrent.Executor;

/**
 * How much work the node loop may do itself, rather than hand to a worker, before the tasks queued
 * behind it get their turn: {@link #take} grants up to {@code perTurn} jobs, and the first grant
 * queues a refill on the loop, which runs only after every task queued before it (the frames read
 * meanwhile among them). So a burst of pieces never holds the loop (on an agent, also its I/O
 * thread) for more than {@code perTurn} jobs in a row. Loop only; not thread-safe.
 */
final class InlineBudget {
  private final int perTurn;
  private final Executor loop;
  private int left;
  private boolean refillQueued;

  /** {@code perTurn} 0: never inline. */
  InlineBudget(int perTurn, Executor loop) {
    if (perTurn < 0) {
      throw new IllegalArgumentException("perTurn < 0: " + perTurn);
    }
    this.perTurn = perTurn;
    this.loop = loop;
    this.left = perTurn;
  }

  /** True if the caller may run one job inline now (and counts it). */
  boolean take() {
    if (left == 0) {
      return false;
    }
    left--;
    if (!refillQueued) {
      refillQueued = true;
      loop.execute(() -> {
        left = perTurn;
        refillQueued = false;
      });
    }
    return true;
  }
}
