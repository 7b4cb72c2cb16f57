package io.patchmesh.seed;

import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.ByteBufAllocator;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;

/**
 * Samples this JVM's memory while a scenario runs: heap in use (every 20 ms, plus the heap pools'
 * own peak counters, which see between samples), NIO direct buffers and Netty's pooled direct
 * memory. All nodes of a LocalMesh share the JVM, so these are the figures of the whole mesh and
 * the attacker together: an upper bound for any one honest node.
 */
final class MemoryProbe implements AutoCloseable {
  record Figures(long peakHeapSampled, long peakHeapPools, long heapAfterGc, long peakDirect) {
    static String mb(long bytes) {
      return String.format("%.0f", bytes / 1048576.0);
    }

    @Override
    public String toString() {
      return "peak heap " + mb(peakHeapSampled) + " MB sampled (" + mb(peakHeapPools) + " MB pool peaks incl. garbage), "
          + mb(heapAfterGc) + " MB after GC, peak direct " + mb(peakDirect) + " MB";
    }
  }

  private final List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(p -> p.getType() == MemoryType.HEAP).toList();
  private final List<BufferPoolMXBean> bufferPools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
  private final Thread sampler;
  private volatile boolean running = true;
  private volatile long peakHeap;
  private volatile long peakDirect;

  MemoryProbe() {
    System.gc();
    heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
    sampler = new Thread(() -> {
      while (running) {
        sample();
        try {
          Thread.sleep(20); // a sampling period, not a wait for a condition
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "memory-probe");
    sampler.setDaemon(true);
    sampler.start();
  }

  private void sample() {
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long direct = bufferPools.stream().filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    if (alloc instanceof ByteBufAllocatorMetricProvider m) {
      direct = Math.max(direct, m.metric().usedDirectMemory());
    }
    peakHeap = Math.max(peakHeap, heap);
    peakDirect = Math.max(peakDirect, direct);
  }

  /** Stops sampling and measures the heap that survives a full GC. */
  Figures stop() {
    running = false;
    sampler.interrupt();
    try {
      sampler.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sample();
    long pools = heapPools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    System.gc();
    long after = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    return new Figures(peakHeap, pools, after, peakDirect);
  }

  @Override
  public void close() {
    running = false;
    sampler.interrupt();
  }
}
