package io.patchmesh.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A node loop on a Netty I/O loop (an agent's) keeps the loop's contract: tasks in order and never
 * inside one another, after-each-task hook, timers that a cancel removes, exceptions logged and the
 * loop going on, and nothing running after close.
 */
class NodeLoopOnIoLoopTest {

  private static NodeLoop loop() {
    return NodeLoop.onIoLoop("t", 1, () -> System.nanoTime() / 1_000_000);
  }

  @Test
  void tasksPostedFromTheLoopRunAfterTheCurrentOneInOrder() throws Exception {
    try (NodeLoop loop = loop()) {
      List<String> seen = new CopyOnWriteArrayList<>();
      AtomicInteger hooks = new AtomicInteger();
      loop.afterEachTask(hooks::incrementAndGet);
      CountDownLatch done = new CountDownLatch(1);
      loop.execute(() -> {
        assertTrue(loop.inLoop());
        assertTrue(loop.ioLoops().single().inEventLoop(), "the node loop is the I/O loop");
        loop.execute(() -> seen.add("b"));
        loop.execute(() -> seen.add("c"));
        loop.execute(done::countDown);
        seen.add("a"); // posted tasks wait for this one to end
      });
      assertTrue(done.await(10, TimeUnit.SECONDS));
      assertEquals(List.of("a", "b", "c"), seen);
      await().atMost(Duration.ofSeconds(10)).until(() -> hooks.get() >= 4);
      assertFalse(loop.inLoop());
    }
  }

  @Test
  void anInputMayRunAtOnceOnlyOnTheIoLoopOutsideTheNodesTasks() throws Exception {
    try (NodeLoop loop = loop()) {
      assertFalse(loop.outsideTaskOnIo(), "not on the loop");
      AtomicInteger hooks = new AtomicInteger();
      loop.afterEachTask(hooks::incrementAndGet);
      List<Boolean> seen = new CopyOnWriteArrayList<>();
      CountDownLatch done = new CountDownLatch(1);
      loop.execute(() -> seen.add(loop.outsideTaskOnIo())); // a node task
      // a task of the I/O loop's own, as Netty's reads run: outside the node's tasks
      loop.ioLoops().single().execute(() -> {
        seen.add(loop.outsideTaskOnIo());
        int before = hooks.get();
        loop.runNow(() -> seen.add(loop.outsideTaskOnIo()));
        seen.add(hooks.get() == before + 1); // run as a task is: the hook after it
        seen.add(loop.outsideTaskOnIo());
        done.countDown();
      });
      assertTrue(done.await(10, TimeUnit.SECONDS));
      assertEquals(List.of(false, true, false, true, true), seen);
    }
    try (NodeLoop own = new NodeLoop("own", 1, System::currentTimeMillis)) {
      CountDownLatch done = new CountDownLatch(1);
      AtomicBoolean may = new AtomicBoolean(true);
      own.execute(() -> {
        may.set(own.outsideTaskOnIo());
        done.countDown();
      });
      assertTrue(done.await(10, TimeUnit.SECONDS));
      assertFalse(may.get(), "a loop thread of its own (seeds) queues every input");
    }
  }

  @Test
  void aTaskThatThrowsIsLoggedAndTheLoopGoesOn() throws Exception {
    try (NodeLoop loop = loop()) {
      CountDownLatch next = new CountDownLatch(1);
      loop.execute(() -> {
        throw new IllegalStateException("test: thrown on purpose");
      });
      loop.execute(next::countDown);
      assertTrue(next.await(10, TimeUnit.SECONDS));
      AtomicInteger ticks = new AtomicInteger();
      ScheduledFuture<?> every = loop.every(5, () -> {
        ticks.incrementAndGet();
        throw new IllegalStateException("test: a timer that throws keeps its period");
      });
      await().atMost(Duration.ofSeconds(10)).until(() -> ticks.get() >= 3);
      every.cancel(false);
    }
  }

  @Test
  void aCancelledTimerDoesNotRunAndLeavesTheQueue() throws Exception {
    try (NodeLoop loop = loop()) {
      AtomicBoolean ran = new AtomicBoolean();
      CountDownLatch later = new CountDownLatch(1);
      ScheduledFuture<?> dropped = loop.later(50, () -> ran.set(true));
      ScheduledFuture<?> kept = loop.later(100, later::countDown);
      assertNotNull(dropped);
      assertNotNull(kept);
      CountDownLatch cancelled = new CountDownLatch(1);
      loop.execute(() -> {
        assertTrue(dropped.cancel(false)); // on the loop, as the node's timers cancel
        cancelled.countDown();
      });
      assertTrue(cancelled.await(10, TimeUnit.SECONDS));
      assertTrue(later.await(10, TimeUnit.SECONDS));
      assertFalse(ran.get());
      assertTrue(dropped.isCancelled());
    }
  }

  @Test
  void nothingRunsAfterCloseAndTheIoLoopStops() throws Exception {
    NodeLoop loop = loop();
    AtomicBoolean ranLate = new AtomicBoolean();
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    loop.execute(() -> {
      blocking.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(blocking.await(10, TimeUnit.SECONDS));
    loop.execute(() -> ranLate.set(true)); // queued behind the running task
    loop.later(1, () -> ranLate.set(true));
    Thread closer = new Thread(loop::close);
    closer.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> loop.ioLoops().group().isShuttingDown());
    release.countDown();
    closer.join(10_000);
    assertTrue(loop.ioLoops().group().isTerminated());
    assertFalse(ranLate.get(), "a task queued before close must not run after it");
    loop.execute(() -> ranLate.set(true)); // no exception, no run
    assertNull(loop.later(1, () -> ranLate.set(true)));
    assertFalse(ranLate.get());
  }
}
