package io.patchmesh.transfer;

/** An exponentially weighted moving average; NaN until the first sample. Not thread-safe. */
final class Ewma {
  private final double alpha;
  private double value = Double.NaN;

  Ewma(double alpha) {
    this.alpha = alpha;
  }

  void add(double sample) {
    value = Double.isNaN(value) ? sample : value + alpha * (sample - value);
  }

  /** Overwrites the average (a timeout is a verdict, not one more sample). */
  void set(double v) {
    value = v;
  }

  double value() {
    return value;
  }

  boolean known() {
    return !Double.isNaN(value);
  }
}
