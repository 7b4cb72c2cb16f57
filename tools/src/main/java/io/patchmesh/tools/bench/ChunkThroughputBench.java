package io.patchmesh.tools.bench;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.FastCdc;
import io.patchmesh.content.StreamChunker;
import io.patchmesh.trust.Sha256Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Chunk+hash throughput of {@link StreamChunker} over random bytes, as a ratio
 * to plain JDK SHA-256 over the same bytes in the same run (goal: >= 0.8).
 *
 * <p>Each round times SHA-256 alone, the chunker pipelined (cut on the calling
 * thread, hash on a helper) and the chunker inline (one thread), both in place over
 * the array as SHA-256 is, and the pipelined chunker fed through an InputStream (one
 * more copy of every byte, as when reading a file); the median round of each is
 * reported.
 *
 * <p>Why CPU-time figures too: on a shared machine the wall-clock ratio mostly
 * measures the scheduler (the pipeline needs a second core that another process
 * may hold). So each round also measures, in this thread's CPU time, the two
 * stages of the pipeline on their own — cutting the whole input, and hashing
 * its chunks — and SHA-256 of the whole input. With a core per stage the
 * pipeline runs at the slower stage's speed, so
 * {@code min(cut, chunk hashing) / SHA-256} (per CPU-second) is what the
 * wall-clock ratio becomes on an idle two-core machine, minus handoff costs.
 *
 * <p>Run: {@code patchmesh bench content}, or
 * {@code java -cp tools/target/patchmesh.jar io.patchmesh.tools.bench.ChunkThroughputBench [MB] [avgKiB] [rounds]}
 */
public final class ChunkThroughputBench {
  /**
   * Medians over the rounds. Wall-clock rates in MB/s (10^6 bytes per second);
   * CPU rates in MB per CPU-second of the measuring thread.
   */
  public record Result(
      long bytes, ChunkParams params, long chunks, int rounds,
      double sha256MBps, double pipelinedMBps, double streamedMBps, double inlineMBps,
      double sha256CpuMBps, double cutCpuMBps, double chunkHashCpuMBps) {
    public double pipelinedRatio() {
      return pipelinedMBps / sha256MBps;
    }

    public double streamedRatio() {
      return streamedMBps / sha256MBps;
    }

    public double inlineRatio() {
      return inlineMBps / sha256MBps;
    }

    /** The pipeline's ratio with one free core per stage: slower stage / SHA-256, per CPU-second. */
    public double twoCoreRatioFromCpu() {
      return Math.min(cutCpuMBps, chunkHashCpuMBps) / sha256CpuMBps;
    }

    /** The ratio one core can reach: cut and hash in series, per CPU-second. */
    public double oneCoreRatioFromCpu() {
      return 1 / (1 / cutCpuMBps + 1 / chunkHashCpuMBps) / sha256CpuMBps;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT,
          "bytes=%d params=[%s] chunks=%d meanChunk=%d rounds=%d%n"
              + "wall: sha256 %.0f MB/s | chunk+hash pipelined %.0f MB/s (ratio %.2f) | streamed %.0f MB/s (ratio %.2f)"
              + " | inline %.0f MB/s (ratio %.2f)%n"
              + "cpu:  sha256 %.0f MB/CPU-s | cut %.0f | hash chunks %.0f | ratio with a free core per stage %.2f, on one core %.2f",
          bytes, params, chunks, bytes / Math.max(1, chunks), rounds, sha256MBps,
          pipelinedMBps, pipelinedRatio(), streamedMBps, streamedRatio(), inlineMBps, inlineRatio(),
          sha256CpuMBps, cutCpuMBps, chunkHashCpuMBps, twoCoreRatioFromCpu(), oneCoreRatioFromCpu());
    }
  }

  private ChunkThroughputBench() {}

  public static Result run(int megabytes, ChunkParams params, int rounds) throws IOException {
    return runBytes(megabytes << 20, params, rounds);
  }

  /** {@code bytes} of random data, {@code rounds} rounds (>= 1). */
  public static Result runBytes(int bytes, ChunkParams params, int rounds) throws IOException {
    if (bytes < 1 || rounds < 1) {
      throw new IllegalArgumentException("bytes and rounds must be positive");
    }
    byte[] data = new byte[bytes];
    new SplittableRandom(20261127).nextBytes(data);
    StreamChunker pipelined = new StreamChunker(params, new StreamChunker.Options(false, true));
    StreamChunker inline = new StreamChunker(params, new StreamChunker.Options(false, false));
    FastCdc cdc = new FastCdc(params);
    Sha256Digest md = ChunkId.sha256();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int[] cuts = new int[bytes / params.min() + 2];
    long[] counter = new long[1];
    ChunkSink count = (id, buf, off, len) -> counter[0]++;
    double[] sha = new double[rounds];
    double[] pipe = new double[rounds];
    double[] streamed = new double[rounds];
    double[] one = new double[rounds];
    double[] shaCpu = new double[rounds];
    double[] cutCpu = new double[rounds];
    double[] hashCpu = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long c0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      md.update(data);
      md.digest();
      long t1 = System.nanoTime();
      long c1 = threads.getCurrentThreadCpuTime();
      counter[0] = 0;
      pipelined.chunk(data, 0, data.length, count);
      long t2 = System.nanoTime();
      inline.chunk(data, 0, data.length, ChunkSink.DISCARD);
      long t3 = System.nanoTime();
      pipelined.chunk(new ByteArrayInputStream(data), ChunkSink.DISCARD);
      long t4 = System.nanoTime();
      // The pipeline's stages alone, in CPU time.
      long c2 = threads.getCurrentThreadCpuTime();
      int n = cutAll(cdc, data, cuts);
      long c3 = threads.getCurrentThreadCpuTime();
      hashAll(md, data, cuts, n);
      long c4 = threads.getCurrentThreadCpuTime();
      sha[r] = mbps(data.length, t1 - t0);
      pipe[r] = mbps(data.length, t2 - t1);
      one[r] = mbps(data.length, t3 - t2);
      streamed[r] = mbps(data.length, t4 - t3);
      shaCpu[r] = mbps(data.length, c1 - c0);
      cutCpu[r] = mbps(data.length, c3 - c2);
      hashCpu[r] = mbps(data.length, c4 - c3);
    }
    return new Result(data.length, params, counter[0], rounds, median(sha), median(pipe), median(streamed), median(one),
        median(shaCpu), median(cutCpu), median(hashCpu));
  }

  /** Cut points of the whole array (as the chunker's cutter finds them); returns their count. */
  private static int cutAll(FastCdc cdc, byte[] data, int[] ends) {
    int pos = 0;
    int n = 0;
    while (pos < data.length) {
      pos += cdc.cut(data, pos, data.length - pos);
      ends[n++] = pos;
    }
    return n;
  }

  private static void hashAll(Sha256Digest md, byte[] data, int[] ends, int n) {
    byte[] digest = new byte[ChunkId.LENGTH];
    int start = 0;
    for (int i = 0; i < n; i++) {
      md.update(data, start, ends[i] - start);
      md.digest(digest, 0);
      start = ends[i];
    }
  }

  private static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (Math.max(1, nanos) / 1e9);
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  public static void main(String[] args) throws IOException {
    int mb = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    ChunkParams params = args.length > 1 ? ChunkParams.ofAverage(Integer.parseInt(args[1]) * 1024) : ChunkParams.DEFAULT;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    System.out.println(run(mb, params, rounds));
  }
}
