package io.patchmesh.net;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Not part of the suite (the name does not end in Test): one link on loopback,
 * 256 KiB Piece frames with backpressure, plaintext vs mutual TLS. Run with
 * {@code mvn -B -q -pl node -am test -Dtest=LoopbackThroughputBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class LoopbackThroughputBenchmark {
  static final long WARMUP = 256L << 20;
  static final long MEASURED = 1L << 30;

  @TempDir Path dir;

  @Test
  void loopbackThroughput() throws Exception {
    try (MeshFixture mesh = new MeshFixture(dir)) {
      for (boolean tls : new boolean[] {false, true, false, true}) {
        AtomicLong received = new AtomicLong();
        LinkListener counter = (link, frame) -> {
          if (frame.hasPiece()) {
            received.addAndGet(frame.getPiece().getData().size());
          }
        };
        String tag = (tls ? "t" : "p") + System.nanoTime();
        Transport rx = tls ? mesh.tls("rx" + tag, "hq", counter, c -> c.eventLoopThreads(2))
            : mesh.plaintext("rx" + tag, "hq", counter, c -> c.eventLoopThreads(2));
        Transport tx = tls ? mesh.tls("tx" + tag, "hq", null, c -> c.eventLoopThreads(2))
            : mesh.plaintext("tx" + tag, "hq", null, c -> c.eventLoopThreads(2));
        PeerLink link = tx.connect(rx.boundAddress()).get(10, TimeUnit.SECONDS);
        new BulkSender(link, WARMUP).start();
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(2))
            .until(() -> received.get() >= WARMUP);
        received.set(0);
        long start = System.nanoTime();
        new BulkSender(link, MEASURED).start();
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(2))
            .until(() -> received.get() >= MEASURED);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("BENCH %s: %d MiB in %.2f s = %.0f MB/s%n", tls ? "mutual TLS 1.3" : "plaintext",
            MEASURED >> 20, seconds, MEASURED / seconds / 1e6);
        tx.close();
        rx.close();
      }
    }
  }
}
