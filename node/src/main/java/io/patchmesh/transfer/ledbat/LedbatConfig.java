package io.patchmesh.transfer.ledbat;

/**
 * The knobs of {@link Ledbat}, with RFC 6817's defaults where it has them.
 *
 * @param targetMillis queuing delay we may add to the link (RFC 6817: at most 100 ms)
 * @param gain additive increase per RTT in units of {@code unitBytes} at zero queuing delay (RFC: 1)
 * @param unitBytes the "MSS" of the request window: the size of a typical request (a chunk piece)
 * @param initialWindowBytes window before any sample
 * @param minWindowBytes never below this; it may be below one request: requests are then spaced
 *     out ({@link Ledbat#mayRequest}) so the rate stays window / RTT and delay is still measured
 * @param maxWindowBytes never above this (memory and fairness bound)
 * @param baseIntervalMillis length of one base-delay bucket (RFC: 1 minute)
 * @param baseBuckets buckets of base-delay history (RFC: 10): a route change is forgotten after this many
 * @param currentSamples samples the current delay is the minimum of (RFC: a few; filters noise)
 * @param maxDecrease at most this fraction of the window goes per RTT when over target (LEDBAT++ style: 0.5)
 */
public record LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
    long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease) {

  public LedbatConfig {
    if (targetMillis <= 0 || targetMillis > 100) {
      throw new IllegalArgumentException("target must be 1-100 ms (RFC 6817)");
    }
    if (unitBytes <= 0 || minWindowBytes <= 0 || maxWindowBytes < minWindowBytes
        || initialWindowBytes < minWindowBytes || initialWindowBytes > maxWindowBytes) {
      throw new IllegalArgumentException("need unit <= min <= initial <= max window");
    }
    if (gain <= 0 || baseIntervalMillis <= 0 || baseBuckets < 1 || currentSamples < 1 || maxDecrease <= 0 || maxDecrease >= 1) {
      throw new IllegalArgumentException("bad LEDBAT parameters");
    }
  }

  /** Target 100 ms, gain 1, 64 KiB requests, window 4 KiB .. 16 MiB starting at 256 KiB. */
  public static LedbatConfig defaults() {
    long unit = 64 * 1024;
    return new LedbatConfig(100, 1.0, unit, 4 * unit, 4 * 1024, 16L << 20, 60_000, 10, 4, 0.5);
  }
}
