package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Inputs for the loop: in order, one loop task per burst, bounded per task, an input that throws skipped. */
class LoopInboxTest {
  /** A loop that runs its tasks only when told. */
  private final Queue<Runnable> tasks = new ArrayDeque<>();
  private final LoopInbox inbox = new LoopInbox(tasks::add);
  private final List<Integer> ran = new ArrayList<>();

  private void runLoop() {
    for (Runnable t = tasks.poll(); t != null; t = tasks.poll()) {
      t.run();
    }
  }

  @Test
  void aBurstIsOneLoopTaskAndRunsInOrder() {
    for (int i = 0; i < 10; i++) {
      int n = i;
      inbox.post(() -> ran.add(n));
    }
    assertEquals(1, tasks.size(), "one task for the burst");
    runLoop();
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), ran);
    inbox.post(() -> ran.add(10));
    assertEquals(1, tasks.size(), "the next burst gets a task of its own");
    runLoop();
    assertEquals(11, ran.size());
  }

  @Test
  void inputsPostedWhileTheTaskRunsRunInIt() {
    inbox.post(() -> {
      ran.add(0);
      inbox.post(() -> ran.add(1)); // a transport thread posting while the loop drains
    });
    assertEquals(1, tasks.size());
    tasks.poll().run();
    assertEquals(List.of(0, 1), ran);
    assertTrue(tasks.isEmpty(), "no task left for nothing");
  }

  @Test
  void aFloodIsRunInBoundedTasks() {
    int n = LoopInbox.MAX_PER_TASK * 2 + 5;
    for (int i = 0; i < n; i++) {
      int k = i;
      inbox.post(() -> ran.add(k));
    }
    tasks.poll().run();
    assertEquals(LoopInbox.MAX_PER_TASK, ran.size(), "the loop's other tasks get a turn");
    assertEquals(1, tasks.size(), "the rest is handed on");
    runLoop();
    assertEquals(n, ran.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i, ran.get(i));
    }
  }

  @Test
  void anInputThatThrowsDoesNotStopTheOthers() {
    inbox.post(() -> ran.add(0));
    inbox.post(() -> {
      throw new IllegalStateException("a handler's bug");
    });
    inbox.post(() -> ran.add(2));
    runLoop();
    assertEquals(List.of(0, 2), ran);
  }

  @Test
  void anInputOnTheLoopWithNothingQueuedRunsAtOnceInOrderAndNeverInsideAnother() {
    AtomicBoolean mayRunNow = new AtomicBoolean(true);
    List<String> hooks = new ArrayList<>();
    LoopInbox direct = new LoopInbox(tasks::add, mayRunNow::get, in -> {
      in.run();
      hooks.add("after");
    });
    direct.runOrPost(() -> ran.add(0));
    assertEquals(List.of(0), ran, "run at once");
    assertEquals(List.of("after"), hooks, "with what follows a task");
    assertTrue(tasks.isEmpty(), "no loop task for it");

    direct.post(() -> ran.add(1)); // an input queued from elsewhere (a link event)
    direct.runOrPost(() -> ran.add(2));
    assertEquals(List.of(0), ran, "queued behind what waits: the order holds");
    runLoop();
    assertEquals(List.of(0, 1, 2), ran);

    direct.runOrPost(() -> {
      ran.add(3);
      direct.runOrPost(() -> ran.add(4)); // arrives while one runs at once
      ran.add(5);
    });
    assertEquals(List.of(0, 1, 2, 3, 5), ran, "never inside another input");
    runLoop();
    assertEquals(List.of(0, 1, 2, 3, 5, 4), ran);

    mayRunNow.set(false); // inside a loop task, or off the loop
    direct.runOrPost(() -> ran.add(6));
    assertEquals(1, tasks.size());
    runLoop();
    assertEquals(7, ran.size());

    mayRunNow.set(true);
    direct.runOrPost(() -> {
      throw new IllegalStateException("a handler's bug");
    });
    direct.runOrPost(() -> ran.add(7));
    assertEquals(8, ran.size(), "an input that throws does not stop the next");
  }

  @Test
  void manyThreadsPostingLoseNothingOnARealLoop() throws Exception {
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    try (NodeLoop loop = new NodeLoop("inbox-test", 1, System::currentTimeMillis)) {
      LoopInbox real = new LoopInbox(loop::execute);
      int threads = 4;
      int each = 5_000;
      CountDownLatch done = new CountDownLatch(threads * each);
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * each;
        Thread th = new Thread(() -> {
          for (int i = 0; i < each; i++) {
            int k = base + i;
            real.post(() -> {
              seen.add(k);
              done.countDown();
            });
          }
        });
        ts.add(th);
        th.start();
      }
      for (Thread th : ts) {
        th.join();
      }
      assertTrue(done.await(30, TimeUnit.SECONDS), "every input ran: " + seen.size());
      // each thread's inputs ran in the order it posted them
      int[] last = new int[threads];
      java.util.Arrays.fill(last, -1);
      synchronized (seen) {
        for (int k : seen) {
          int t = k / each;
          assertTrue(k > last[t], "thread " + t + " out of order at " + k);
          last[t] = k;
        }
      }
    }
  }
}
