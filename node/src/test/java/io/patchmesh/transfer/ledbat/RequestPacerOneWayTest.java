package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import org.junit.jupiter.api.Test;

/**
 * The request pacer with stamped pieces ({@link RequestPacer#onOneWayDelay}): the sender's own wait
 * for a core (a seed starved beside a dozen agents compiling their piece path, BENCHMARKS 13t) is in
 * the piece's time and in the kernel's RTT, but not in the one-way delay from its stamp, so it must
 * not shrink the window; a queue on the way here is in all three, so it still must. Virtual time, the
 * pacer alone; the clocks' offset is any constant.
 */
class RequestPacerOneWayTest {
  final NodeId seed = NodeId.of(SiteLinkModel.filled((byte) 1));
  final ManifestId m = ManifestId.of(new byte[ManifestId.LENGTH]);
  final RequestPacer p = new RequestPacer(LedbatConfig.forRequests());
  int next;
  long now;

  /**
   * Pieces of 32 KiB asked for one after another: each arrives {@code senderWait + 20 + queue + 20}
   * ms after its request (the request's way, the sender's wait, the queue, the piece's way), the
   * kernel's RTT saying {@code senderWait + 40 + queue}; stamped ({@code offset}: the clocks'
   * difference) unless {@code offset} is null.
   */
  void pieces(int count, long senderWait, long queue, Long offset) {
    for (int i = 0; i < count; i++) {
      p.onSent(seed, m, next, 32 * 1024, now);
      p.onSent(seed, m, next + 1, 32 * 1024, now); // keeps something in flight: the window may grow
      now += senderWait + 40 + queue;
      p.onPathRtt(seed, now, senderWait + 40 + queue);
      if (offset != null) {
        p.onOneWayDelay(seed, now, 20 + queue + offset);
      }
      p.onPiece(seed, m, next, now);
      p.reconcile(seed, m, 0);
      next += 2;
    }
  }

  @Test
  void theSendersOwnWaitAloneDoesNotShrinkTheWindow() {
    for (long offset : new long[] {0, 3_600_000, -86_400_000}) {
      RequestPacerOneWayTest t = new RequestPacerOneWayTest();
      t.pieces(20, 0, 0, offset);
      long before = t.p.windowBytes(t.seed);
      t.pieces(40, 250, 0, offset); // the seed answered each request 250 ms late
      assertEquals(0, t.p.queuingDelayMillis(t.seed), "offset " + offset);
      assertTrue(t.p.windowBytes(t.seed) >= before, "offset " + offset + ": " + before + " -> " + t.p.windowBytes(t.seed));
    }
  }

  @Test
  void unstampedTheSendersWaitReadsAsQueuing() {
    pieces(20, 0, 0, null);
    long before = p.windowBytes(seed);
    pieces(40, 250, 0, null); // an older sender: as before this change
    assertEquals(250, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) < before / 2, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void aQueueOnTheWayStillShrinksIt() {
    pieces(20, 0, 0, 5_000L);
    long before = p.windowBytes(seed);
    pieces(40, 0, 200, 5_000L);
    assertEquals(200, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) < before / 2, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void aQueueBehindASlowSenderStillShrinksIt() {
    pieces(20, 0, 0, 5_000L);
    long before = p.windowBytes(seed);
    pieces(40, 250, 150, 5_000L); // the seed late and a queue on the way: the queue is what counts
    assertEquals(150, p.queuingDelayMillis(seed));
    assertTrue(p.windowBytes(seed) < before / 2, before + " -> " + p.windowBytes(seed));
  }

  @Test
  void ourOwnLatenessIsTakenOutOfTheOneWayDelayToo() {
    pieces(20, 0, 0, 5_000L);
    long before = p.windowBytes(seed);
    for (int i = 0; i < 40; i++) {
      p.onSent(seed, m, next, 32 * 1024, now);
      p.onSent(seed, m, next + 1, 32 * 1024, now);
      now += 440; // the seed answered 200 ms late, the piece came 40 ms after the request, our loop handled it 200 ms late
      p.onPathRtt(seed, now, 240);
      p.onOwnLag(now, 200);
      p.onOneWayDelay(seed, now, 220 + 5_000);
      p.onPiece(seed, m, next, now);
      p.reconcile(seed, m, 0);
      next += 2;
    }
    assertEquals(0, p.queuingDelayMillis(seed)); // without the lag out of the one-way delay: 200
    assertTrue(p.windowBytes(seed) >= before);
  }

  @Test
  void aStampOfAPieceNotAskedForIsNotTheNextPiecesSample() {
    pieces(20, 0, 0, 5_000L);
    p.onOneWayDelay(seed, now, 5_000 - 1_000); // a piece we did not ask for (cancelled): 1 s "early"
    p.onPiece(seed, m, 999_999, now);
    pieces(4, 250, 0, null); // unstamped, the seed 250 ms late: read as before, not bounded by that stamp
    assertEquals(250, p.queuingDelayMillis(seed));
  }
}
