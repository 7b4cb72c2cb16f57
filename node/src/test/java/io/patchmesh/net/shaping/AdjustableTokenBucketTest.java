package io.patchmesh.net.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A bucket whose rate follows a schedule (laptop policies' rate-schedule), on virtual time. */
class AdjustableTokenBucketTest {
  final AtomicLong now = new AtomicLong(1_000_000);
  final AtomicLong rate = new AtomicLong(0);
  final TokenBucket bucket = TokenBucket.adjustable(rate::get, 100, now::get);

  @Test
  void noCapLetsEverythingGoAtOnceAndOwesNothing() {
    for (int i = 0; i < 100; i++) {
      assertEquals(0, bucket.reserve(10_000_000));
    }
    rate.set(1_000_000); // the business-hours cap begins: nothing owed from the uncapped hours
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
    assertEquals(0, bucket.reserve(100_000));
  }

  @Test
  void aCapThatAppearsPacesAtItsRate() {
    rate.set(1_000_000);
    bucket.reserve(0);
    assertEquals(TimeUnit.MILLISECONDS.toNanos(50), bucket.reserve(50_000));
  }

  @Test
  void aLowerCapSlowsAndTheBurstFollowsTheRate() {
    rate.set(10_000_000);
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertEquals(1_000_000, bucket.burstBytes()); // 100 ms of 10 MB/s
    rate.set(100_000);
    assertEquals(16 * 1024, bucket.burstBytes()); // at least 16 KiB
    bucket.reserve(16 * 1024);
    long wait = bucket.reserve(100_000);
    assertTrue(wait >= TimeUnit.MILLISECONDS.toNanos(999) && wait <= TimeUnit.MILLISECONDS.toNanos(1001), "waited " + wait);
  }

  @Test
  void aCapThatEndsReleasesAtOnce() {
    rate.set(1_000);
    bucket.reserve(1_000_000);
    rate.set(0);
    assertEquals(0, bucket.reserve(1_000_000));
  }
}
