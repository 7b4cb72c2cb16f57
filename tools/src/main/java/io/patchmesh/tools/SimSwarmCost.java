package io.patchmesh.tools;

import io.patchmesh.transfer.sim.CoreMeter;
import io.patchmesh.transfer.sim.SwarmSimConfig;
import io.patchmesh.transfer.sim.SwarmSimResult;
import io.patchmesh.transfer.sim.SwarmSimulation;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code sim swarm --cost-runs N}: what the swarm cores cost per chunk handled, on this thread's
 * clocks, the same scenario run again in one JVM. Each round is two runs: one without a meter (the
 * whole run's CPU time and allocated bytes: cores and simulator) and one with {@link CoreMeter} on
 * (the cores' share, its clock reads taken off). The first {@link #WARM_UP} rounds warm the JIT and are not
 * counted. Chunks handled: pieces handed to a core plus pieces a core sent, as an agent's figure
 * per chunk handled counts them (BENCHMARKS 13x).
 */
final class SimSwarmCost {
  /** Rounds before the measured ones: the JIT still compiles the cores in the first (BENCHMARKS 13ae). */
  static final int WARM_UP = 2;

  private SimSwarmCost() {}

  record Round(long chunks, long totalCpuNanos, long totalAllocBytes, long coreCpuNanos, long coreAllocBytes) {
    double total() {
      return (double) totalCpuNanos / chunks;
    }

    double core() {
      return (double) coreCpuNanos / chunks;
    }

    double totalAlloc() {
      return (double) totalAllocBytes / chunks;
    }

    double coreAlloc() {
      return (double) coreAllocBytes / chunks;
    }
  }

  static int run(SwarmSimConfig cfg, int rounds, PrintWriter out) {
    SwarmSimResult first = null;
    List<Round> measured = new ArrayList<>();
    for (int r = -WARM_UP + 1; r <= rounds; r++) {
      System.gc();
      long cpu0 = CoreMeter.threadCpuNanos();
      long alloc0 = CoreMeter.threadAllocatedBytes();
      SwarmSimResult plain = SwarmSimulation.run(cfg);
      long cpu = CoreMeter.threadCpuNanos() - cpu0;
      long alloc = CoreMeter.threadAllocatedBytes() - alloc0;
      System.gc();
      CoreMeter meter = CoreMeter.on();
      SwarmSimResult metered = SwarmSimulation.run(cfg, meter);
      if (first == null) {
        first = plain.deterministicPart();
        out.print(SimSwarmCommand.render(plain));
      }
      if (!plain.deterministicPart().equals(first) || !metered.deterministicPart().equals(first)) {
        throw new IllegalStateException("the same scenario gave different figures: " + plain + " / " + metered);
      }
      Round round = new Round(meter.chunksHandled(), cpu, alloc, meter.coreCpuNanos(), meter.coreAllocatedBytes());
      out.printf(Locale.ROOT, "%s: %,d chunks handled, per chunk: CPU %,.0f ns (cores %,.0f, simulator %,.0f), "
              + "allocated %,.0f B (cores %,.0f); metered run %,.0f ns, %,d spans, %.0f ns each taken off%n",
          r <= 0 ? "warm-up" : "round " + r, round.chunks(), round.total(), round.core(), round.total() - round.core(),
          round.totalAlloc(), round.coreAlloc(), (double) meter.runCpuNanos() / round.chunks(), meter.spans(),
          meter.emptySpanNanos());
      out.flush();
      if (r > 0) {
        measured.add(round);
      }
    }
    if (!measured.isEmpty()) {
      out.printf(Locale.ROOT, "median of %d: CPU %s ns per chunk, cores %s, simulator %s; allocated %s B, cores %s%n",
          measured.size(), spread(measured, Round::total), spread(measured, Round::core),
          spread(measured, x -> x.total() - x.core()), spread(measured, Round::totalAlloc), spread(measured, Round::coreAlloc));
    }
    out.flush();
    return Main.OK;
  }

  /** "median (min-max)". */
  private static String spread(List<Round> rounds, java.util.function.ToDoubleFunction<Round> f) {
    double[] v = rounds.stream().mapToDouble(f).sorted().toArray();
    double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    return String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", median, v[0], v[v.length - 1]);
  }
}
