package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Queue;
import org.junit.jupiter.api.Test;

/** The loop's allowance of inline stores: a few in a row, refilled once the tasks queued behind them ran. */
class InlineBudgetTest {
  private final Queue<Runnable> loop = new ArrayDeque<>();

  private void runQueued() {
    for (int n = loop.size(); n > 0; n--) {
      loop.remove().run();
    }
  }

  @Test
  void grantsPerTurnThenNoneUntilTheQueuedRefillRuns() {
    InlineBudget b = new InlineBudget(3, loop::add);
    assertTrue(b.take());
    assertEquals(1, loop.size(), "the first grant queues one refill");
    assertTrue(b.take());
    assertTrue(b.take());
    assertFalse(b.take(), "a fourth in a row goes to a worker");
    assertFalse(b.take());
    assertEquals(1, loop.size(), "one refill queued, however many asked");
    runQueued();
    assertTrue(b.take());
    assertTrue(b.take());
    assertTrue(b.take());
    assertFalse(b.take());
  }

  @Test
  void theRefillRunsOnlyAfterTasksQueuedBeforeIt() {
    InlineBudget b = new InlineBudget(1, loop::add);
    loop.add(() -> assertFalse(b.take(), "a task queued before the refill finds the budget spent"));
    // the task above was queued first; the grant's refill goes behind it
    assertTrue(b.take());
    runQueued();
    assertTrue(b.take(), "refilled");
  }

  @Test
  void zeroNeverGrantsAndQueuesNothing() {
    InlineBudget b = new InlineBudget(0, loop::add);
    assertFalse(b.take());
    assertTrue(loop.isEmpty());
    assertThrows(IllegalArgumentException.class, () -> new InlineBudget(-1, loop::add));
  }
}
