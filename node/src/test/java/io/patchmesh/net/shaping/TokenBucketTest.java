package io.patchmesh.net.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  final AtomicLong now = new AtomicLong(1_000_000);
  final TokenBucket bucket = new TokenBucket(1_000_000, 100_000, now::get); // 1 MB/s, 100 kB burst

  @Test
  void startsFullSoABurstGoesAtOnce() {
    assertEquals(0, bucket.reserve(100_000));
  }

  @Test
  void debtTurnsIntoAWaitAtTheConfiguredRate() {
    bucket.reserve(100_000);
    assertEquals(TimeUnit.MILLISECONDS.toNanos(50), bucket.reserve(50_000));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(150), bucket.reserve(100_000), "reservations queue behind each other");
  }

  @Test
  void refillsWithElapsedTimeButNeverBeyondTheBurst() {
    bucket.reserve(100_000);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(30));
    assertEquals(30_000, bucket.available(), 1);
    now.addAndGet(TimeUnit.SECONDS.toNanos(10));
    assertEquals(100_000, bucket.available(), 1);
  }

  @Test
  void lateWakeupsAreCreditedUpToTheBurst() {
    bucket.reserve(100_000);
    long wait = bucket.reserve(10_000);
    now.addAndGet(wait + TimeUnit.MILLISECONDS.toNanos(5)); // woke 5 ms late
    assertEquals(0, bucket.reserve(5_000));
  }

  @Test
  void frameLargerThanTheBurstWaitsLonger() {
    assertEquals(TimeUnit.MILLISECONDS.toNanos(900), bucket.reserve(1_000_000));
  }

  @Test
  void wanPathUsesSenderUplinkAndReceiverDownlinkButNothingInsideASite() {
    WanEmulator wan = new WanEmulator(now::get).site("a", 1000, 2000).site("b", 3000, 4000);
    assertEquals(2, wan.path("a", "b").size());
    assertEquals(1000, wan.path("a", "b").get(0).bytesPerSecond());
    assertEquals(4000, wan.path("a", "b").get(1).bytesPerSecond());
    assertEquals(0, wan.path("a", "a").size());
    assertEquals(1, wan.path("a", "unconfigured").size());
    wan.recordSent("a", "b", 10);
    wan.recordSent("a", "a", 99);
    assertEquals(10, wan.wanBytesOut("a"));
    assertEquals(10, wan.wanBytesIn("b"));
    assertEquals(0, wan.wanBytesIn("a"));
  }
}
