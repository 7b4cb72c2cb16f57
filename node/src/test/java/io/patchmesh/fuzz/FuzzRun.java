package io.patchmesh.fuzz;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Drives one {@link FuzzTarget} over {@code inputs} generated inputs and tallies what happened.
 *
 * <p>Input {@code i} of a run with seed {@code s} is generated from its own random source
 * ({@link #randomFor}), so any failing input can be regenerated alone from (seed, index).
 * Per input it measures wall time and the bytes this thread allocated while feeding it (HotSpot's
 * per-thread allocation counter), which is how "a 2 GB length prefix does not allocate 2 GB" is
 * checked without running out of memory first.
 */
public final class FuzzRun {
  /**
   * Inputs at the start of a run left out of the slowest/most-allocating figures: the first ones
   * load classes and run cold code (they are still checked for unexpected exceptions).
   */
  public static final int WARM_UP = 1000;
  /** How many unexpected failures are kept with their details. */
  private static final int KEPT_FAILURES = 10;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private FuzzRun() {}

  /** One unexpected exception, with what is needed to replay it. */
  public record Failure(long seed, long index, String type, String message, byte[] input) {}

  /**
   * What one target did.
   *
   * @param outcomes "ok" or the simple name of the exception thrown, by count
   * @param maxNanos slowest single input
   * @param maxAllocatedBytes most bytes allocated while feeding one input
   * @param peakHeapBytes highest sampled {@code totalMemory - freeMemory}
   */
  public record Stats(String target, long inputs, long nanos, Map<String, Long> outcomes, long unexpected,
      List<Failure> failures, long maxNanos, long maxAllocatedBytes, long peakHeapBytes) {

    public double inputsPerSecond() {
      return inputs * 1e9 / Math.max(1, nanos);
    }
  }

  /** The random source of input {@code index} of a run with {@code seed}. */
  public static SplittableRandom randomFor(long seed, long index) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
  }

  public static Stats run(FuzzTarget target, long inputs, long seed) {
    Map<String, Long> outcomes = new TreeMap<>();
    List<Failure> failures = new ArrayList<>();
    long unexpected = 0;
    long maxNanos = 0;
    long maxAllocated = 0;
    long peakHeap = 0;
    Runtime rt = Runtime.getRuntime();
    long start = System.nanoTime();
    for (long i = 0; i < inputs; i++) {
      byte[] input = target.generate(randomFor(seed, i));
      long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
      long t0 = System.nanoTime();
      String outcome = "ok";
      try {
        target.feed(input);
      } catch (Throwable t) {
        outcome = t.getClass().getSimpleName();
        if (!target.expected(t)) {
          unexpected++;
          outcome = "UNEXPECTED " + t.getClass().getName();
          if (failures.size() < KEPT_FAILURES) {
            failures.add(new Failure(seed, i, t.getClass().getName(), String.valueOf(t.getMessage()), input));
          }
        }
      }
      if (i >= WARM_UP || inputs <= WARM_UP) {
        maxNanos = Math.max(maxNanos, System.nanoTime() - t0);
        maxAllocated = Math.max(maxAllocated, THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore);
      }
      outcomes.merge(outcome, 1L, Long::sum);
      if ((i & 255) == 0) {
        peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory());
      }
    }
    long nanos = System.nanoTime() - start;
    return new Stats(target.name(), inputs, nanos, outcomes, unexpected, List.copyOf(failures), maxNanos,
        maxAllocated, peakHeap);
  }
}
