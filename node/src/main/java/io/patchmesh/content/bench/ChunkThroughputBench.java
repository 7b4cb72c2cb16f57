package io.patchmesh.content.bench;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.StreamChunker;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chunk+hash throughput of {@link StreamChunker} over random bytes, as a ratio
 * to plain JDK SHA-256 over the same bytes in the same run (goal: >= 0.8).
 *
 * <p>Each round times SHA-256 alone, the chunker pipelined (cut on the calling
 * thread, hash on a helper) and the chunker inline (one thread); the median
 * round of each is reported. Run:
 * {@code java -cp node/target/classes:PROTOBUF_JAR io.patchmesh.content.bench.ChunkThroughputBench [MB] [avgKiB] [rounds]}
 */
public final class ChunkThroughputBench {
  public record Result(
      long bytes, ChunkParams params, long chunks,
      double sha256MBps, double pipelinedMBps, double inlineMBps) {
    public double pipelinedRatio() {
      return pipelinedMBps / sha256MBps;
    }

    public double inlineRatio() {
      return inlineMBps / sha256MBps;
    }

    @Override
    public String toString() {
      return String.format(
          "bytes=%d params=[%s] chunks=%d meanChunk=%d%n"
              + "sha256 %.0f MB/s | chunk+hash pipelined %.0f MB/s (ratio %.2f) | inline %.0f MB/s (ratio %.2f)",
          bytes, params, chunks, bytes / Math.max(1, chunks), sha256MBps,
          pipelinedMBps, pipelinedRatio(), inlineMBps, inlineRatio());
    }
  }

  private ChunkThroughputBench() {}

  public static Result run(int megabytes, ChunkParams params, int rounds) throws IOException {
    byte[] data = new byte[megabytes << 20];
    new SplittableRandom(20261127).nextBytes(data);
    StreamChunker pipelined = new StreamChunker(params, new StreamChunker.Options(false, true));
    StreamChunker inline = new StreamChunker(params, new StreamChunker.Options(false, false));
    MessageDigest md = ChunkId.sha256();
    long[] counter = new long[1];
    ChunkSink count = (id, buf, off, len) -> counter[0]++;
    double[] sha = new double[rounds];
    double[] pipe = new double[rounds];
    double[] one = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long t0 = System.nanoTime();
      md.update(data);
      md.digest();
      long t1 = System.nanoTime();
      counter[0] = 0;
      pipelined.chunk(new ByteArrayInputStream(data), count);
      long t2 = System.nanoTime();
      inline.chunk(new ByteArrayInputStream(data), ChunkSink.DISCARD);
      long t3 = System.nanoTime();
      sha[r] = mbps(data.length, t1 - t0);
      pipe[r] = mbps(data.length, t2 - t1);
      one[r] = mbps(data.length, t3 - t2);
    }
    return new Result(data.length, params, counter[0], median(sha), median(pipe), median(one));
  }

  private static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
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
