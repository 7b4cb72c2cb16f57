package io.patchmesh.net;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for redialling: the n-th wait is uniform in
 * [b/2, b] with b = min * 2^n capped at max, so many nodes that lost the same seed
 * do not all come back in the same instant. Pure; not thread-safe.
 */
final class Backoff {
  private final long minNanos;
  private final long maxNanos;
  private final RandomGenerator random;
  private int attempts;

  Backoff(Duration min, Duration max, RandomGenerator random) {
    if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
      throw new IllegalArgumentException("need 0 < min <= max, got " + min + ", " + max);
    }
    this.minNanos = min.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
  }

  Duration next() {
    long base = minNanos;
    for (int i = 0; i < attempts && base < maxNanos; i++) {
      base *= 2;
    }
    base = Math.min(base, maxNanos);
    attempts++;
    long half = base / 2;
    return Duration.ofNanos(half + (long) (random.nextDouble() * (base - half)));
  }

  void reset() {
    attempts = 0;
  }
}
