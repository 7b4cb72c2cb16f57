package io.patchmesh.transfer.ledbat;

/**
 * What a link model's flow of interest got, per virtual millisecond, and the two figures the
 * yielding tests read from it: its share of the link over a span, and how long until a one-second
 * window is back at a share. Shared by the LEDBAT link models of the request and upload pacers.
 */
public final class LinkShareMeter {
  private final double[] bytesPerMilli;
  private final double capacity;

  /** {@code millis} of virtual time; {@code capacity}: the link's bytes per millisecond. */
  public LinkShareMeter(int millis, double capacity) {
    this.bytesPerMilli = new double[millis];
    this.capacity = capacity;
  }

  /** {@code bytes} of the flow went through the link in millisecond {@code now}. */
  public void add(long now, double bytes) {
    bytesPerMilli[(int) now] += bytes;
  }

  /** The flow's share of the link over [from, to). */
  public double share(long from, long to) {
    double sum = 0;
    for (long t = from; t < to; t++) {
      sum += bytesPerMilli[(int) t];
    }
    return sum / (to - from) / capacity;
  }

  /** Seconds from {@code from} until a one-second window first reaches {@code share} (in 250 ms steps); -1 if never. */
  public double secondsUntil(long from, long end, double share) {
    for (long t = from; t + 1000 <= end; t += 250) {
      if (share(t, t + 1000) >= share) {
        return (t + 1000 - from) / 1000.0;
      }
    }
    return -1;
  }
}
