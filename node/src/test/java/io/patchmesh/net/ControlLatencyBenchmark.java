package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Ack;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not part of the suite (the name does not end in Test; {@link ControlLatencyUnderBulkTest} checks
 * the same property by bytes overtaken, not milliseconds). The reason links have two connections: while 200 MB of Piece frames stream over
 * the data connection (with backpressure), ping/ack round trips on the control
 * connection stay fast. Asserted bound: p99 &lt; 500 ms, widened to three times
 * the p99 of the same round trips without bulk traffic when the (shared) machine
 * is itself that noisy (measured on an idle 2-core machine: p99 7-53 ms).
 * Head-of-line blocking behind the megabytes of pieces queued in the data
 * connection's buffers, drained at the shaping-free loopback rate, shows up as
 * seconds under the same CPU load, so the bound still separates the designs. Figures are printed and recorded in docs/benchmarks/net.md.
 * Run with {@code mvn -B -q -pl node -am test -Dtest=ControlLatencyBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ControlLatencyBenchmark {
  static final long BULK_BYTES = 200L * 1024 * 1024;

  @TempDir Path dir;

  @Test
  void controlFramesNeverWaitBehindBulkData() throws Exception {
    try (MeshFixture mesh = new MeshFixture(dir)) {
      AtomicLong pieceBytes = new AtomicLong();
      Map<Long, Long> sentAt = new ConcurrentHashMap<>();
      List<Long> rttNanos = Collections.synchronizedList(new ArrayList<>());
      Transport receiver = mesh.tls("receiver", "hq", (link, frame) -> {
        if (frame.hasPiece()) {
          pieceBytes.addAndGet(frame.getPiece().getData().size());
        } else if (frame.hasPing()) {
          link.sendControl(Frame.newBuilder().setAck(Ack.newBuilder().setSeq(frame.getPing().getSeq())).build());
        }
      }, c -> c.eventLoopThreads(2));
      Transport sender = mesh.tls("sender", "hq", (link, frame) -> {
        if (frame.hasAck()) {
          Long start = sentAt.remove(frame.getAck().getSeq());
          if (start != null) {
            rttNanos.add(System.nanoTime() - start);
          }
        }
      }, c -> c.eventLoopThreads(2));
      PeerLink link = sender.connect(receiver.boundAddress()).get(10, TimeUnit.SECONDS);

      // Baseline: the same round trips with no bulk traffic, to see what the machine itself adds.
      long seq = 0;
      for (int i = 0; i < 300; i++) {
        sentAt.put(++seq, System.nanoTime());
        link.sendControl(Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq)).build());
        Thread.sleep(2); // pacing: one ping every 2 ms, as a prober would send them
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        synchronized (rttNanos) {
          return rttNanos.size() >= 300; // every idle ping answered
        }
      });
      List<Long> idle;
      synchronized (rttNanos) {
        idle = new ArrayList<>(rttNanos);
        rttNanos.clear();
      }
      Collections.sort(idle);
      double idleP99 = idle.get((int) Math.ceil(idle.size() * 0.99) - 1) / 1e6;
      System.out.printf("control RTT idle: %d samples, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", idle.size(),
          idle.get(idle.size() / 2) / 1e6, idleP99, idle.get(idle.size() - 1) / 1e6);

      BulkSender bulk = new BulkSender(link, BULK_BYTES);
      long start = System.nanoTime();
      bulk.start();
      while (pieceBytes.get() < BULK_BYTES && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(40)) {
        sentAt.put(++seq, System.nanoTime());
        link.sendControl(Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq)).build());
        Thread.sleep(2); // pacing, not waiting
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      assertTrue(pieceBytes.get() >= BULK_BYTES, "bulk transfer finished");

      List<Long> sorted;
      synchronized (rttNanos) {
        sorted = new ArrayList<>(rttNanos);
      }
      Collections.sort(sorted);
      assertTrue(sorted.size() >= 20, "enough samples: " + sorted.size());
      double p50 = sorted.get(sorted.size() / 2) / 1e6;
      double p99 = sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1) / 1e6;
      double max = sorted.get(sorted.size() - 1) / 1e6;
      System.out.printf("control RTT under bulk: %d samples, p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
          + " bulk %d MB in %.2f s (%.0f MB/s, mutual TLS)%n",
          sorted.size(), p50, p99, max, BULK_BYTES >> 20, seconds, (BULK_BYTES >> 20) / seconds);
      double bound = Math.max(500, 3 * idleP99);
      assertTrue(p99 < bound, "control p99 " + p99 + " ms, bound " + bound + " ms");
    }
  }
}
