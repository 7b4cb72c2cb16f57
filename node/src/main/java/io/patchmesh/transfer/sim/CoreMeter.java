package io.patchmesh.transfer.sim;

import java.lang.management.ManagementFactory;

/**
 * What the swarm cores of one simulation cost this thread, apart from the simulator's own work:
 * the time and allocated bytes inside the calls {@link SimNode} makes into its {@link
 * io.patchmesh.transfer.swarm.SwarmCore} (the core's callbacks into the simulated links included),
 * and the pieces the cores handled (received, and sent). {@link #OFF} measures nothing: a run
 * without a meter reads no clock.
 *
 * <p>A span reads the monotonic clock and the thread's allocation counter at both ends (the
 * thread's CPU clock is a system call, ~0.6 us here: more than the cores' own work per call). The
 * clock reads' share of a span is measured by {@link #calibrate} and taken off; the spans' time is
 * turned into CPU time at the run's own ratio of CPU to wall time ({@link #runStarted}, {@link
 * #runEnded}), so time the thread spent preempted falls on cores and simulator in proportion.
 */
public final class CoreMeter {
  /** The meter of runs that measure nothing. */
  static final CoreMeter OFF = new CoreMeter(false);

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private final boolean on;
  private long wallAt;
  private long allocAt;
  private long spans;
  private long spanNanos;
  private long allocBytes;
  private long piecesIn;
  private long piecesOut;
  private long runCpuAt;
  private long runWallAt;
  private long runCpuNanos;
  private long runWallNanos;
  /** Nanoseconds an empty span measures (the clock reads' own share); see {@link #calibrate}. */
  private double emptySpanNanos;

  private CoreMeter(boolean on) {
    this.on = on;
  }

  /** A meter that measures. */
  public static CoreMeter on() {
    CoreMeter m = new CoreMeter(true);
    m.calibrate();
    return m;
  }

  /** Starts a span; spans do not nest. */
  void enter() {
    if (on) {
      allocAt = THREADS.getCurrentThreadAllocatedBytes();
      wallAt = System.nanoTime();
    }
  }

  /** Ends the span {@link #enter} started. */
  void exit() {
    if (on) {
      long wall = System.nanoTime();
      long alloc = THREADS.getCurrentThreadAllocatedBytes();
      spanNanos += wall - wallAt;
      allocBytes += alloc - allocAt;
      spans++;
    }
  }

  void runStarted() {
    if (on) {
      runCpuAt = THREADS.getCurrentThreadCpuTime();
      runWallAt = System.nanoTime();
    }
  }

  void runEnded() {
    if (on) {
      runWallNanos += System.nanoTime() - runWallAt;
      runCpuNanos += THREADS.getCurrentThreadCpuTime() - runCpuAt;
    }
  }

  void pieceIn() {
    piecesIn++;
  }

  void pieceOut() {
    piecesOut++;
  }

  /** The cheapest of five rounds of empty spans, once the clock reads are compiled. */
  private void calibrate() {
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      spanNanos = 0;
      spans = 0;
      for (int i = 0; i < 200_000; i++) {
        enter();
        exit();
      }
      best = Math.min(best, (double) spanNanos / spans);
    }
    emptySpanNanos = best;
    spanNanos = 0;
    allocBytes = 0;
    spans = 0;
  }

  /** Pieces the cores handled: each received (handed to a core) and each sent (a core's SendPiece carried out). */
  public long chunksHandled() {
    return piecesIn + piecesOut;
  }

  /** The cores' share of the run's CPU time: their spans less the clock reads, at the run's CPU per wall time. */
  public long coreCpuNanos() {
    double net = Math.max(0, spanNanos - spans * emptySpanNanos);
    return runWallNanos == 0 ? 0 : Math.round(net * runCpuNanos / runWallNanos);
  }

  /** The whole metered run's CPU time on this thread (cores, simulator and the meter's clock reads). */
  public long runCpuNanos() {
    return runCpuNanos;
  }

  /** Bytes allocated inside the cores (the allocation counter allocates nothing itself). */
  public long coreAllocatedBytes() {
    return allocBytes;
  }

  public long spans() {
    return spans;
  }

  public double emptySpanNanos() {
    return emptySpanNanos;
  }

  /** This thread's CPU time now (nanoseconds). */
  public static long threadCpuNanos() {
    return THREADS.getCurrentThreadCpuTime();
  }

  /** Bytes this thread allocated so far. */
  public static long threadAllocatedBytes() {
    return THREADS.getCurrentThreadAllocatedBytes();
  }
}
