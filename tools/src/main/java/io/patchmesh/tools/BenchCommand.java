package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.tools.bench.ChunkThroughputBench;
import io.patchmesh.tools.bench.DedupBench;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.tools.bench.StoreBench;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code patchmesh bench ...}: the benchmarks of docs/BENCHMARKS.md, on this machine.
 * Wall-clock figures depend on how busy the machine is; each command says what it measured.
 */
@Command(
    name = "bench",
    description = {
      "Measure this machine: chunking and hashing, the chunk store.",
      "Figures are lower bounds when other work shares the CPU (see 'uptime')."
    },
    subcommands = {BenchCommand.Content.class, BenchCommand.Store.class, BenchCommand.Swarm.class, AttackBenchCommand.class})
final class BenchCommand implements Runnable {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing benchmark (content, store)");
  }

  @Command(
      name = "content",
      description = {
        "Chunking and hashing speed against plain SHA-256; dedup against rsync.",
        "Chunk+hash throughput (FastCDC + SHA-256 per chunk) as a ratio to plain SHA-256",
        "over the same random bytes in the same run (goal: >= 0.8). With --file, also",
        "how many bytes an edited copy of FILE adds, against what rsync sends (goal: <= 1.5)."
      })
  static final class Content implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--size", defaultValue = "256MiB", paramLabel = "SIZE",
        description = "random bytes to chunk, held in memory (default: 256MiB, at most 1GiB)")
    String size;

    @Option(names = "--avg", defaultValue = "64KiB", paramLabel = "SIZE",
        description = "average chunk size, a power of two; min = avg/4, max = min(4 x avg, 256KiB) (default: 64KiB, the publish default)")
    String avg;

    @Option(names = "--rounds", defaultValue = "5", paramLabel = "N", description = "rounds; medians are reported (default: 5)")
    int rounds;

    @Option(names = "--file", paramLabel = "FILE",
        description = "also measure dedup: FILE as v1, a deterministic edit of it as v2 (needs rsync for the comparison)")
    Path file;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
      long bytes = Units.parseBytes("--size", size);
      if (bytes < 1 || bytes > (1L << 30)) {
        throw new UserInputException("--size: '" + size + "' is not within 1 B .. 1GiB");
      }
      if (rounds < 1 || rounds > 100) {
        throw new UserInputException("--rounds: " + rounds + " is not within 1 .. 100");
      }
      ChunkParams params = params(avg);
      if (file != null && !Files.isReadable(file)) {
        throw new UserInputException(file + ": cannot read it");
      }
      if (file != null && Files.size(file) > (1L << 30)) {
        throw new UserInputException(file + ": larger than 1GiB; the dedup benchmark holds it in memory twice");
      }
      ChunkThroughputBench.Result t = ChunkThroughputBench.runBytes((int) bytes, params, rounds);
      DedupBench.Result d = file == null ? null : dedup(file, params);
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        ObjectNode n = JsonOut.object();
        n.set("throughput", throughputJson(t));
        if (d != null) {
          n.set("dedup", dedupJson(d));
        }
        JsonOut.print(o, n);
      } else {
        o.print(render(t));
        if (d != null) {
          o.print(render(d));
        }
        o.flush();
      }
      return Main.OK;
    }

    private static ChunkParams params(String avg) {
      long a = Units.parseBytes("--avg", avg);
      try {
        if (a > ChunkParams.MAX_CHUNK_BYTES) {
          throw new IllegalArgumentException("at most " + ChunkParams.MAX_CHUNK_BYTES / 1024 + " KiB");
        }
        return ChunkParams.ofAverage((int) a);
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--avg: '" + avg + "': " + e.getMessage());
      }
    }

    private static DedupBench.Result dedup(Path file, ChunkParams params) throws IOException, InterruptedException {
      Path work = Files.createTempDirectory("patchmesh-bench-dedup");
      try {
        return DedupBench.run(file, List.of(params), work);
      } finally {
        BundleOutput.deleteTree(work);
      }
    }
  }

  static ObjectNode throughputJson(ChunkThroughputBench.Result t) {
    ObjectNode n = JsonOut.object();
    n.put("bytes", t.bytes());
    n.putObject("chunkParams").put("min", t.params().min()).put("avg", t.params().avg()).put("max", t.params().max());
    n.put("chunks", t.chunks());
    n.put("rounds", t.rounds());
    n.put("sha256MBps", round1(t.sha256MBps()));
    n.put("pipelinedMBps", round1(t.pipelinedMBps()));
    n.put("pipelinedRatio", round2(t.pipelinedRatio()));
    n.put("streamedMBps", round1(t.streamedMBps()));
    n.put("streamedRatio", round2(t.streamedRatio()));
    n.put("inlineMBps", round1(t.inlineMBps()));
    n.put("inlineRatio", round2(t.inlineRatio()));
    n.put("sha256MBPerCpuSecond", round1(t.sha256CpuMBps()));
    n.put("cutMBPerCpuSecond", round1(t.cutCpuMBps()));
    n.put("chunkHashMBPerCpuSecond", round1(t.chunkHashCpuMBps()));
    n.put("twoCoreRatioFromCpu", round2(t.twoCoreRatioFromCpu()));
    n.put("oneCoreRatioFromCpu", round2(t.oneCoreRatioFromCpu()));
    n.put("goal", 0.8);
    n.put("goalMet", t.pipelinedRatio() >= 0.8);
    return n;
  }

  static String render(ChunkThroughputBench.Result t) {
    return String.format(Locale.ROOT,
        "chunk+hash over %s of random bytes, chunks %d/%d/%d KiB (%d chunks), median of %d rounds%n"
            + "  SHA-256 alone             %6.0f MB/s%n"
            + "  chunk+hash, 2 threads     %6.0f MB/s   ratio %.2f  (goal >= 0.8: %s)%n"
            + "  chunk+hash, 1 thread      %6.0f MB/s   ratio %.2f%n"
            + "  2 threads, via a stream   %6.0f MB/s   ratio %.2f  (one more copy, as when reading a file)%n"
            + "  per CPU-second: SHA-256 %.0f MB, cut %.0f MB, hash chunks %.0f MB%n"
            + "    -> ratio with a free core per stage %.2f, on one core %.2f%n",
        Units.formatBytes(t.bytes()), t.params().min() / 1024, t.params().avg() / 1024, t.params().max() / 1024,
        t.chunks(), t.rounds(), t.sha256MBps(), t.pipelinedMBps(), t.pipelinedRatio(),
        t.pipelinedRatio() >= 0.8 ? "met" : "missed", t.inlineMBps(), t.inlineRatio(),
        t.streamedMBps(), t.streamedRatio(),
        t.sha256CpuMBps(), t.cutCpuMBps(), t.chunkHashCpuMBps(), t.twoCoreRatioFromCpu(), t.oneCoreRatioFromCpu());
  }

  static ObjectNode dedupJson(DedupBench.Result d) {
    DedupBench.Row r = d.rows().get(0);
    ObjectNode n = JsonOut.object();
    n.put("file", d.file().toString());
    n.put("v1Bytes", d.v1Bytes());
    n.put("v2Bytes", d.v2Bytes());
    n.put("editedBytes", d.editedBytes());
    n.put("v1Chunks", r.v1Chunks());
    n.put("newChunks", r.newChunks());
    n.put("newBytes", r.newBytes());
    n.put("manifestBytes", r.manifestBytes());
    n.put("rsyncSentBytes", d.rsyncSent());
    if (d.rsyncSent() > 0) {
      n.put("newBytesPerRsyncSent", round2((double) r.newBytes() / d.rsyncSent()));
      n.put("goalMet", (double) r.newBytes() / d.rsyncSent() <= 1.5);
    }
    return n;
  }

  static String render(DedupBench.Result d) {
    DedupBench.Row r = d.rows().get(0);
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "dedup: %s (%,d bytes) edited: 1 MiB overwritten + 3 x 100 KiB inserted%n",
        d.file(), d.v1Bytes()));
    b.append(String.format(Locale.ROOT, "  v1 chunks %,d, v2 adds %,d chunks = %,d bytes; v1 manifest %,d bytes%n",
        r.v1Chunks(), r.newChunks(), r.newBytes(), r.manifestBytes()));
    if (d.rsyncSent() > 0) {
      double ratio = (double) r.newBytes() / d.rsyncSent();
      b.append(String.format(Locale.ROOT, "  rsync sends %,d bytes -> ratio %.2f (goal <= 1.5: %s)%n",
          d.rsyncSent(), ratio, ratio <= 1.5 ? "met" : "missed"));
    } else {
      b.append("  rsync is not installed: no comparison\n");
    }
    return b.toString();
  }

  @Command(
      name = "swarm",
      description = {
        "A whole swarm in one JVM: 1 seed + sites x agents with real TLS and stores.",
        "Each site sits behind an emulated WAN link; reports WAN bytes per site,",
        "rollout time against the link time, seed egress, and a v2 that changes 2%%."
      })
  static final class Swarm implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--sites", defaultValue = "3", paramLabel = "N", description = "sites (default: 3)")
    int sites;

    @Option(names = "--agents-per-site", defaultValue = "4", paramLabel = "N", description = "agents per site (default: 4)")
    int agentsPerSite;

    @Option(names = "--size", defaultValue = "256MB", paramLabel = "SIZE", description = "patch size (default: 256MB)")
    String size;

    @Option(names = "--wan-rate", defaultValue = "20mbit", paramLabel = "RATE", description = "each site's WAN link (default: 20mbit)")
    String wanRate;

    @Override
    public Integer call() {
      long bytes = Units.parseBytes("--size", size);
      long rate = Units.parseRate("--wan-rate", wanRate);
      if (sites < 1 || agentsPerSite < 1 || bytes < 1 || rate < 1) {
        throw new io.patchmesh.errors.UserInputException("--sites, --agents-per-site, --size and --wan-rate must be positive");
      }
      var result = io.patchmesh.seed.local.SwarmBench.run(
          new io.patchmesh.seed.local.SwarmBench.Config(sites, agentsPerSite, bytes, rate * 8 / 1e6));
      spec.commandLine().getOut().print(result.toMarkdown());
      spec.commandLine().getOut().flush();
      return Main.OK;
    }
  }

  @Command(
      name = "store",
      description = {
        "Chunk store put and get rates.",
        "RocksDB + BlobDB files in a temporary directory: put = hash check + write,",
        "get = random order after a reopen."
      })
  static final class Store implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--total", defaultValue = "1GiB", paramLabel = "SIZE",
        description = "bytes to write per chunk size (default: 1GiB)")
    String total;

    @Option(names = "--chunk", split = ",", defaultValue = "64KiB,256KiB", paramLabel = "SIZE",
        description = "chunk sizes, comma-separated (default: 64KiB,256KiB)")
    List<String> chunkSizes;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N", description = "writers (default: 1)")
    int threads;

    @Option(names = "--dir", paramLabel = "DIR",
        description = "where the stores go (default: a temporary directory); removed afterwards")
    Path dir;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
      long totalBytes = Units.parseBytes("--total", total);
      if (totalBytes < 1 || totalBytes > (64L << 30)) {
        throw new UserInputException("--total: '" + total + "' is not within 1 B .. 64GiB");
      }
      if (threads < 1 || threads > 64) {
        throw new UserInputException("--threads: " + threads + " is not within 1 .. 64");
      }
      List<Integer> sizes = new ArrayList<>();
      for (String s : chunkSizes) {
        long b = Units.parseBytes("--chunk", s);
        if (b < 64 || b > ChunkParams.MAX_CHUNK_BYTES) {
          throw new UserInputException("--chunk: '" + s + "' is not within 64 B .. 256KiB");
        }
        sizes.add((int) b);
      }
      Path base = dir == null ? Files.createTempDirectory("patchmesh-bench-store")
          : Files.createDirectories(dir).resolve("patchmesh-bench-store-" + ProcessHandle.current().pid());
      List<StoreBench.Result> results = new ArrayList<>();
      try {
        for (int size : sizes) {
          Path d = base.resolve("store-" + size);
          results.add(StoreBench.run(d, size, totalBytes, threads));
          BundleOutput.deleteTree(d);
        }
      } finally {
        BundleOutput.deleteTree(base);
      }
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        ArrayNode a = JsonOut.array();
        for (StoreBench.Result r : results) {
          a.addObject()
              .put("chunkBytes", r.chunkBytes()).put("chunks", r.chunks()).put("bytes", r.bytes())
              .put("threads", r.threads())
              .put("putMBps", round1(r.putMBps())).put("putOps", Math.round(r.putOps()))
              .put("putMBPerCpuSecond", round1(r.putMBpsPerCpu()))
              .put("getMBps", round1(r.getMBps())).put("getOps", Math.round(r.getOps()))
              .put("getMBPerCpuSecond", round1(r.getMBpsPerCpu()))
              .put("diskBytes", r.diskBytes());
        }
        ObjectNode n = JsonOut.object();
        n.set("results", a);
        JsonOut.print(o, n);
      } else {
        for (StoreBench.Result r : results) {
          o.println(r.format());
        }
        o.flush();
      }
      return Main.OK;
    }
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
