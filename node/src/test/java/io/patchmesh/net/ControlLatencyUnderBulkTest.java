package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.RateLimits;
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
 * The reason links have two connections, checked in bytes rather than milliseconds: the sender's
 * data connection is capped at 512 KiB/s, so a full write buffer (at least 1 MiB, the low water mark
 * backpressure refills from) waits in front of every new piece for two seconds or more. A ping sent on
 * the control connection meanwhile must come back while far fewer piece bytes than that arrived:
 * it overtook the queued data. Behind one connection (head-of-line blocking) every ping would wait
 * for the whole queue, so each would see at least the queue's bytes arrive first. The millisecond
 * figures under 200 MB of unshaped bulk are {@link ControlLatencyBenchmark}'s (docs/benchmarks/net.md).
 */
class ControlLatencyUnderBulkTest {
  static final long CAP = 512 * 1024;
  static final long BULK_BYTES = 3L << 20;
  /**
   * A ping overtook the queue if fewer bytes than this arrived while it was out (pieces arrive in
   * 256 KiB frames, one per half second, so at most two did; behind one connection it would be the
   * whole queue: 1 MiB of wire bytes, at least three whole frames).
   */
  static final long OVERTAKEN = 768 * 1024;

  @TempDir Path dir;

  @Test
  void controlFramesOvertakeTheBulkDataQueuedAheadOfThem() throws Exception {
    try (MeshFixture mesh = new MeshFixture(dir)) {
      AtomicLong pieceBytes = new AtomicLong();
      Map<Long, Long> sentAtBytes = new ConcurrentHashMap<>();
      List<Long> passedWhileInFlight = Collections.synchronizedList(new ArrayList<>());
      Transport receiver = mesh.tls("receiver", "hq", (link, frame) -> {
        if (frame.hasPiece()) {
          pieceBytes.addAndGet(frame.getPiece().getData().size());
        } else if (frame.hasPing()) {
          link.sendControl(Frame.newBuilder().setAck(Ack.newBuilder().setSeq(frame.getPing().getSeq())).build());
        }
      });
      Transport sender = mesh.tls("sender", "hq", (link, frame) -> {
        if (frame.hasAck()) {
          Long atSend = sentAtBytes.remove(frame.getAck().getSeq());
          if (atSend != null) {
            passedWhileInFlight.add(pieceBytes.get() - atSend);
          }
        }
      }, c -> c.rateLimits(new RateLimits(CAP, 0, 0)));
      PeerLink link = sender.connect(receiver.boundAddress()).get(10, TimeUnit.SECONDS);

      BulkSender bulk = new BulkSender(link, BULK_BYTES);
      bulk.start();
      // Pings only while the queue ahead is surely full: after the first piece arrived, and while
      // more than the write buffer is still to come.
      await().atMost(Duration.ofSeconds(30)).until(() -> pieceBytes.get() > 0);
      long seq = 0;
      while (pieceBytes.get() < BULK_BYTES - (2L << 20)) {
        sentAtBytes.put(++seq, pieceBytes.get());
        link.sendControl(Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq)).build());
        Thread.sleep(10); // pacing: a prober's cadence, not a wait for an outcome
      }
      long pings = seq;
      await().atMost(Duration.ofSeconds(30)).until(() -> pieceBytes.get() >= BULK_BYTES && sentAtBytes.isEmpty());
      assertEquals(BULK_BYTES / BulkSender.PIECE_BYTES * BulkSender.PIECE_BYTES, pieceBytes.get(), "bulk data intact");

      List<Long> passed;
      synchronized (passedWhileInFlight) {
        passed = new ArrayList<>(passedWhileInFlight);
      }
      assertEquals(pings, passed.size(), "every ping answered");
      assertTrue(pings >= 20, "enough pings: " + pings);
      Collections.sort(passed);
      long overtook = passed.stream().filter(b -> b < OVERTAKEN).count();
      System.out.printf("%d pings under a capped bulk transfer: piece bytes that arrived while one was in flight:"
          + " p50 %d, p90 %d, max %d; %d overtook the queue%n", pings, passed.get(passed.size() / 2),
          passed.get(passed.size() * 9 / 10), passed.get(passed.size() - 1), overtook);
      assertTrue(overtook >= 0.8 * pings, overtook + " of " + pings + " pings overtook the queued data; bytes passed: " + passed);
    }
  }
}
