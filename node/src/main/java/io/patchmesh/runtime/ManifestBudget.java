package io.patchmesh.runtime;

/**
 * The bytes that manifest downloads and their verification may hold at once (issue 12: eight fake
 * 64 MiB downloads threw OutOfMemoryError under the shipped unit's -Xmx256m). Each download
 * reserves its announced size before its first request and keeps it until its copy is checked.
 * Loop only, but {@link #peak} may be read from any thread.
 */
final class ManifestBudget {
  private final long max;
  private long inFlight;
  private volatile long peak;

  ManifestBudget(long max) {
    this.max = max;
  }

  /** Takes {@code n} bytes; false (nothing taken) if they do not fit. */
  boolean reserve(long n) {
    if (inFlight + n > max) {
      return false;
    }
    inFlight += n;
    peak = Math.max(peak, inFlight);
    return true;
  }

  void release(long n) {
    inFlight -= n;
  }

  long max() {
    return max;
  }

  /** The highest reservation held at once so far. */
  long peak() {
    return peak;
  }
}
