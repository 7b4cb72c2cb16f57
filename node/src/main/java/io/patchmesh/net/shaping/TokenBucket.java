package io.patchmesh.net.shaping;

import java.util.function.LongSupplier;

/**
 * A byte-rate limit as a token bucket with debt. {@link #reserve} always succeeds
 * and says how long the caller must wait before the bytes may go: tokens may go
 * negative, so reservations queue behind each other in arrival order and a
 * frame larger than the burst is simply delayed longer. Waking late loses
 * nothing: refill is computed from elapsed time, capped at the burst.
 *
 * <p>Pure apart from the injected nanosecond clock; thread-safe (shared by every
 * connection of a site or node).
 */
public final class TokenBucket {
  private final long bytesPerSecond;
  private final long burstBytes;
  /** Adjustable buckets only: the rate now (0 = no cap) and the burst in milliseconds of it. */
  private final LongSupplier rateNow;
  private final long burstMillis;
  private final LongSupplier nanoClock;
  private double tokens;
  private long lastRefillNanos;

  /**
   * @param bytesPerSecond sustained rate, &gt; 0
   * @param burstBytes how many bytes may go at once after a quiet period (the bucket starts full)
   * @param nanoClock monotonic nanoseconds, e.g. {@code System::nanoTime}
   */
  public TokenBucket(long bytesPerSecond, long burstBytes, LongSupplier nanoClock) {
    if (bytesPerSecond <= 0 || burstBytes <= 0) {
      throw new IllegalArgumentException("rate and burst must be positive");
    }
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = burstBytes;
    this.rateNow = null;
    this.burstMillis = 0;
    this.nanoClock = nanoClock;
    this.tokens = burstBytes;
    this.lastRefillNanos = nanoClock.getAsLong();
  }

  private TokenBucket(LongSupplier rateNow, long burstMillis, LongSupplier nanoClock) {
    this.bytesPerSecond = 0;
    this.burstBytes = 0;
    this.rateNow = rateNow;
    this.burstMillis = burstMillis;
    this.nanoClock = nanoClock;
    this.tokens = 0;
    this.lastRefillNanos = nanoClock.getAsLong();
  }

  /**
   * A bucket whose rate is read at each reservation (a time-of-day schedule): 0 or less = no cap,
   * then reservations pass at once and no debt builds. The burst is {@code burstMillis} worth of the
   * current rate (at least 16 KiB).
   */
  public static TokenBucket adjustable(LongSupplier bytesPerSecond, long burstMillis, LongSupplier nanoClock) {
    if (burstMillis <= 0) {
      throw new IllegalArgumentException("burst must be positive");
    }
    return new TokenBucket(bytesPerSecond, burstMillis, nanoClock);
  }

  /** A bucket whose burst is {@code burstMillis} worth of its rate (at least 16 KiB). */
  public static TokenBucket ofRate(long bytesPerSecond, long burstMillis, LongSupplier nanoClock) {
    return new TokenBucket(bytesPerSecond, Math.max(16 * 1024, bytesPerSecond * burstMillis / 1000), nanoClock);
  }

  /** Takes {@code bytes} tokens; returns the nanoseconds to wait before sending them (0 = now). */
  public synchronized long reserve(long bytes) {
    long rate = rate();
    if (rate <= 0) {
      lastRefillNanos = nanoClock.getAsLong();
      tokens = 0; // uncapped: nothing owed; when a cap returns, it starts from an empty bucket
      return 0;
    }
    refill();
    tokens -= bytes;
    if (tokens >= 0) {
      return 0;
    }
    return (long) Math.ceil(-tokens * 1e9 / rate);
  }

  /** Tokens available now (negative while in debt). */
  public synchronized double available() {
    refill();
    return tokens;
  }

  /** The rate now (an adjustable bucket's may change; 0 = no cap). */
  public long bytesPerSecond() {
    return rate();
  }

  public long burstBytes() {
    return rateNow == null ? burstBytes : Math.max(16 * 1024, rate() * burstMillis / 1000);
  }

  private long rate() {
    return rateNow == null ? bytesPerSecond : Math.max(0, rateNow.getAsLong());
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    long elapsed = now - lastRefillNanos;
    if (elapsed > 0) {
      tokens = Math.min(burstBytes(), tokens + elapsed * (rate() / 1e9));
      lastRefillNanos = now;
    }
  }
}
