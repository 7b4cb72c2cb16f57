package io.patchmesh.fuzz;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The long fuzz run (the test suite runs the same families for a few thousand inputs with jqwik):
 * every target fed {@code inputs} inputs from a seeded {@link java.util.SplittableRandom}.
 *
 * <pre>
 * java -Xmx64m -cp node/target/test-classes:node/target/classes:$(cat cp.txt) io.patchmesh.fuzz.FuzzBench [inputs] [seed] [target...]
 * </pre>
 *
 * Targets: frame, manifest, trust-root, have-map (default: all). Exits 1 if any input raised an
 * exception the code under test does not document, printing its seed, index and bytes.
 */
public final class FuzzBench {
  private static final Map<String, Supplier<FuzzTarget>> TARGETS = Map.of(
      "frame", FrameTarget::new,
      "manifest", ManifestTarget::new,
      "trust-root", TrustRootTarget::new,
      "have-map", HaveMapTarget::new);
  private static final List<String> ORDER = List.of("frame", "manifest", "trust-root", "have-map");

  private FuzzBench() {}

  /** Per target, in order. */
  public record Result(List<FuzzRun.Stats> targets) {
    public long unexpected() {
      return targets.stream().mapToLong(FuzzRun.Stats::unexpected).sum();
    }
  }

  /** Runs every target for {@code inputs} inputs each. */
  public static Result run(long inputs, long seed) {
    return run(inputs, seed, ORDER);
  }

  public static Result run(long inputs, long seed, List<String> names) {
    List<FuzzRun.Stats> stats = new ArrayList<>();
    for (String name : names) {
      Supplier<FuzzTarget> target = TARGETS.get(name);
      if (target == null) {
        throw new IllegalArgumentException("unknown fuzz target " + name + "; known: " + ORDER);
      }
      stats.add(FuzzRun.run(target.get(), inputs, seed));
    }
    return new Result(stats);
  }

  public static void main(String[] args) {
    long inputs = args.length > 0 ? Long.parseLong(args[0].replace("_", "")) : 1_000_000;
    long seed = args.length > 1 ? Long.parseLong(args[1]) : 2026;
    List<String> names = args.length > 2 ? List.of(args).subList(2, args.length) : ORDER;
    System.out.printf(Locale.ROOT, "fuzz: %,d inputs per target, seed %d, max heap %d MiB%n",
        inputs, seed, Runtime.getRuntime().maxMemory() >> 20);
    long unexpected = 0;
    for (String name : names) {
      FuzzRun.Stats s = run(inputs, seed, List.of(name)).targets().get(0);
      unexpected += s.unexpected();
      System.out.printf(Locale.ROOT,
          "%-10s %,d inputs in %.1f s = %,.0f inputs/s; slowest input %.1f ms; most allocated by one input %,d KiB;"
              + " peak heap %,d MiB%n",
          s.target(), s.inputs(), s.nanos() / 1e9, s.inputsPerSecond(), s.maxNanos() / 1e6,
          s.maxAllocatedBytes() >> 10, s.peakHeapBytes() >> 20);
      s.outcomes().forEach((outcome, n) -> System.out.printf(Locale.ROOT, "           %-40s %,d%n", outcome, n));
      for (FuzzRun.Failure f : s.failures().subList(0, Math.min(3, s.failures().size()))) {
        String hex = HexFormat.of().formatHex(f.input());
        System.out.printf(Locale.ROOT, "  FAILURE seed %d index %d: %s: %s%n    input (%d bytes) %s%n", f.seed(),
            f.index(), f.type(), f.message(), f.input().length, hex.length() > 160 ? hex.substring(0, 160) + "..." : hex);
      }
    }
    System.exit(unexpected == 0 ? 0 : 1);
  }
}
