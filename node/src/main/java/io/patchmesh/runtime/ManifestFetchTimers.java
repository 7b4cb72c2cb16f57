package io.patchmesh.runtime;

/**
 * The timers of the manifest download's slow-source rule ({@link ManifestFetchLimits}): how long a
 * source may take to get going before its rate is judged, and how long it may stay silent. The
 * defaults are the field's; tests that wait for a source to be given up take {@link #fast()}, which
 * keeps the rule and its ratios (a trickle one byte per grace, a stall longer than the grace).
 *
 * @param graceMillis how long a source may take to get going before its rate is judged
 * @param stallMillis silence after which a source is dropped even if its average is still fine
 */
public record ManifestFetchTimers(long graceMillis, long stallMillis) {

  public ManifestFetchTimers {
    if (graceMillis < 0 || stallMillis < 1) {
      throw new IllegalArgumentException("bad manifest fetch timers");
    }
  }

  /** The field's: 10 s grace, 15 s stall. */
  public static ManifestFetchTimers defaults() {
    return new ManifestFetchTimers(10_000, 15_000);
  }

  /** For tests that wait for a slow or silent source to be given up: 2 s grace, 4 s stall. */
  public static ManifestFetchTimers fast() {
    return new ManifestFetchTimers(2_000, 4_000);
  }
}
