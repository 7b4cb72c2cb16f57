package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A silent peer is given up at the timeout; one that keeps sending gets up to the cap (virtual time, seconds). */
class HandshakeDeadlineTest {
  private static final long T = TimeUnit.SECONDS.toNanos(10);

  private static long waitMore(long startS, long heardS, long nowS) {
    return TimeUnit.NANOSECONDS.toSeconds(HandshakeDeadline.waitMoreNanos(T, s(startS), s(heardS), s(nowS)));
  }

  private static long s(long seconds) {
    return TimeUnit.SECONDS.toNanos(seconds);
  }

  @Test
  void aPeerThatSendsNothingIsGivenUpAtTheTimeout() {
    assertEquals(0, waitMore(100, 100, 110));
    assertEquals(0, waitMore(100, 100, 125), "a late timer gives up too");
  }

  @Test
  void aPeerStillSendingGetsATimeoutFromItsLastByte() {
    assertEquals(8, waitMore(100, 108, 110), "its TLS flight 8 s in: 10 s from then");
    assertEquals(0, waitMore(100, 108, 118), "then silent for the timeout");
  }

  @Test
  void noHandshakeOutlivesTheCap() {
    assertEquals(2, waitMore(100, 127, 128), "sending till the end: cut at 3 timeouts");
    assertEquals(0, waitMore(100, 129, 130));
    assertEquals(Duration.ofSeconds(30), HandshakeDeadline.cap(Duration.ofSeconds(10)));
  }
}
