package io.patchmesh.tools.bench;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Put and get rates of the chunk store with real RocksDB files.
 *
 * <p>Put includes what a real put does: the SHA-256 check of the bytes against the id, the
 * chunk and index write (WAL, not fsynced), memtable flushes into blob files. Chunk ids are
 * computed before the clock starts (a fetcher knows them from the manifest). Gets run after a
 * close and reopen, in random order, so RocksDB's memtables and caches start cold; the OS page
 * cache is warm (a node that just fetched a chunk serves it from there too).
 */
public final class StoreBench {
  private StoreBench() {}

  /** Figures of one run. Rates in MB/s (10^6 bytes) and chunks per second. */
  public record Result(
      int chunkBytes,
      int chunks,
      long bytes,
      int threads,
      double putSeconds,
      double getSeconds,
      double putCpuSeconds,
      double getCpuSeconds,
      long diskBytes) {

    public double putMBps() {
      return bytes / putSeconds / 1e6;
    }

    public double putOps() {
      return chunks / putSeconds;
    }

    public double getMBps() {
      return bytes / getSeconds / 1e6;
    }

    public double getOps() {
      return chunks / getSeconds;
    }

    /**
     * Put rate per CPU-second of the whole process (all threads, RocksDB's background threads
     * included): what one unshared core would do. Meaningful when the machine is busy.
     */
    public double putMBpsPerCpu() {
      return bytes / putCpuSeconds / 1e6;
    }

    public double getMBpsPerCpu() {
      return bytes / getCpuSeconds / 1e6;
    }

    /** One line for humans. */
    public String format() {
      return String.format(Locale.ROOT,
          "chunk %4d KiB x %6d (%5.0f MB), %d thread(s): put %7.1f MB/s %8.0f ops/s"
              + " (%6.1f MB per CPU-s) | get %7.1f MB/s %8.0f ops/s (%6.1f MB per CPU-s)"
              + " | disk %5.0f MB",
          chunkBytes / 1024, chunks, bytes / 1e6, threads, putMBps(), putOps(),
          putMBpsPerCpu(), getMBps(), getOps(), getMBpsPerCpu(), diskBytes / 1e6);
    }
  }

  /**
   * Stores {@code totalBytes} of distinct random chunks of {@code chunkBytes} into a fresh store
   * in {@code dir} with {@code threads} writers, then reopens and reads every chunk back.
   */
  public static Result run(Path dir, int chunkBytes, long totalBytes, int threads)
      throws Exception {
    int chunks = (int) Math.max(1, totalBytes / chunkBytes);
    StoreConfig cfg = StoreConfig.DEFAULTS.withQuotaBytes(Math.max(2 * totalBytes, 1L << 30));
    byte[][] data = new byte[threads][];
    Random random = new Random(42);
    for (int t = 0; t < threads; t++) {
      data[t] = new byte[chunkBytes];
      random.nextBytes(data[t]);
    }
    // Chunk i is writer (i % threads)'s buffer with i in its first 8 bytes: distinct content
    // without holding the whole data set in memory.
    List<ChunkId> ids = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      ids.add(ChunkId.hash(stamp(data[i % threads], i)));
    }

    double putSeconds;
    double putCpu;
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        long start = System.nanoTime();
        long cpuStart = processCpuNanos();
        List<Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int writer = t;
          writers.add(pool.submit(() -> {
            for (int i = writer; i < chunks; i += threads) {
              if (!store.chunks().put(ids.get(i), stamp(data[writer], i))) {
                throw new IllegalStateException("chunk " + i + " was not new");
              }
            }
            return null;
          }));
        }
        for (Future<?> w : writers) {
          w.get();
        }
        putSeconds = (System.nanoTime() - start) / 1e9;
        putCpu = (processCpuNanos() - cpuStart) / 1e9;
      } finally {
        pool.shutdownNow();
      }
    }

    Collections.shuffle(ids, new Random(7));
    double getSeconds;
    double getCpu;
    long diskBytes;
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      long start = System.nanoTime();
      long cpuStart = processCpuNanos();
      long read = 0;
      for (ChunkId id : ids) {
        read += store.chunks().get(id).length;
      }
      getSeconds = (System.nanoTime() - start) / 1e9;
      getCpu = (processCpuNanos() - cpuStart) / 1e9;
      if (read != (long) chunks * chunkBytes) {
        throw new IllegalStateException("read " + read + " bytes, expected "
            + (long) chunks * chunkBytes);
      }
      diskBytes = store.diskBytes();
    }
    return new Result(chunkBytes, chunks, (long) chunks * chunkBytes, threads, putSeconds,
        getSeconds, putCpu, getCpu, diskBytes);
  }

  /** CPU time of the whole process, all threads (native ones included). */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static byte[] stamp(byte[] buffer, long i) {
    for (int b = 0; b < 8; b++) {
      buffer[b] = (byte) (i >>> (8 * b));
    }
    return buffer;
  }

  /**
   * {@code StoreBench [--dir DIR] [--total-mb N] [--sizes-kib 64,256] [--threads T]}. Without
   * {@code --dir}, uses a temporary directory and deletes it afterwards.
   */
  public static void main(String[] args) throws Exception {
    Path base = null;
    long totalMb = 1024;
    String sizes = "64,256";
    int threads = 1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> base = Path.of(args[++i]);
        case "--total-mb" -> totalMb = Long.parseLong(args[++i]);
        case "--sizes-kib" -> sizes = args[++i];
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    boolean temporary = base == null;
    if (temporary) {
      base = Files.createTempDirectory("patchmesh-store-bench");
    }
    try {
      for (String size : sizes.split(",")) {
        int kib = Integer.parseInt(size.trim());
        Path dir = base.resolve("store-" + kib + "k-" + System.nanoTime());
        Result r = run(dir, kib * 1024, totalMb << 20, threads);
        System.out.println(r.format());
        deleteTree(dir);
      }
    } finally {
      if (temporary) {
        deleteTree(base);
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
