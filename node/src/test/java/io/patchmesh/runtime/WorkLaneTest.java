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
import org.junit.jupiter.api.Test;

/** Chunk work: one pool task per burst, results to the loop in batches, in order, bounded, a job that throws skipped. */
class WorkLaneTest {
  /** A pool and a loop that run their tasks only when told. */
  private final Queue<Runnable> poolTasks = new ArrayDeque<>();
  private final Queue<Runnable> loopInputs = new ArrayDeque<>();
  private final WorkLane lane = new WorkLane(poolTasks::add, loopInputs::add);
  private final List<Integer> worked = new ArrayList<>();
  private final List<Integer> results = new ArrayList<>();

  private void post(int n) {
    lane.post(() -> {
      worked.add(n);
      return () -> results.add(n);
    });
  }

  private static void runAll(Queue<Runnable> q) {
    for (Runnable t = q.poll(); t != null; t = q.poll()) {
      t.run();
    }
  }

  @Test
  void aBurstIsOnePoolTaskAndItsResultsComeInBatches() {
    for (int i = 0; i < 20; i++) {
      post(i);
    }
    assertEquals(1, poolTasks.size(), "one pool task for the burst");
    runAll(poolTasks);
    assertEquals(20, worked.size());
    int batches = (20 + WorkLane.RESULTS_PER_POST - 1) / WorkLane.RESULTS_PER_POST;
    assertEquals(batches, loopInputs.size(), "results handed to the loop a batch per input");
    assertTrue(results.isEmpty(), "nothing of a result runs off the loop");
    runAll(loopInputs);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      expected.add(i);
    }
    assertEquals(expected, worked);
    assertEquals(expected, results);
    post(20);
    assertEquals(1, poolTasks.size(), "the next burst gets a task of its own");
  }

  @Test
  void jobsPostedWhileTheTaskRunsRideAlong() {
    lane.post(() -> {
      worked.add(0);
      post(1); // the loop posting while a worker runs the lane
      return null; // a job without a loop part
    });
    assertEquals(1, poolTasks.size());
    poolTasks.poll().run();
    assertEquals(List.of(0, 1), worked);
    assertTrue(poolTasks.isEmpty(), "no task left for nothing");
    runAll(loopInputs);
    assertEquals(List.of(1), results);
  }

  @Test
  void aFloodIsRunInBoundedTasks() {
    int n = WorkLane.MAX_PER_TASK * 2 + 5;
    for (int i = 0; i < n; i++) {
      post(i);
    }
    poolTasks.poll().run();
    assertEquals(WorkLane.MAX_PER_TASK, worked.size(), "one task runs at most MAX_PER_TASK jobs");
    assertEquals(1, poolTasks.size(), "and hands the pool another for the rest");
    runAll(poolTasks);
    runAll(loopInputs);
    assertEquals(n, results.size());
  }

  @Test
  void aJobThatThrowsDoesNotStopTheRest() {
    post(0);
    lane.post(() -> {
      throw new IllegalStateException("boom");
    });
    post(2);
    runAll(poolTasks);
    runAll(loopInputs);
    assertEquals(List.of(0, 2), results);
  }

  @Test
  void manyThreadsOnARealLoopLoseNothing() throws Exception {
    try (NodeLoop loop = new NodeLoop("lane-test", 2, System::currentTimeMillis)) {
      List<Integer> got = Collections.synchronizedList(new ArrayList<>());
      int threads = 4;
      int each = 2_000;
      CountDownLatch all = new CountDownLatch(threads * each);
      WorkLane real = new WorkLane(loop::work, loop::execute);
      List<Thread> posters = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * each;
        Thread th = new Thread(() -> {
          for (int i = 0; i < each; i++) {
            int k = base + i;
            real.post(() -> () -> {
              assertTrue(loop.inLoop(), "results run on the loop");
              got.add(k);
              all.countDown();
            });
          }
        });
        posters.add(th);
        th.start();
      }
      for (Thread th : posters) {
        th.join();
      }
      assertTrue(all.await(30, TimeUnit.SECONDS), "every job's result reached the loop");
      assertEquals(threads * each, got.size());
      assertEquals(threads * each, got.stream().distinct().count());
    }
  }
}
