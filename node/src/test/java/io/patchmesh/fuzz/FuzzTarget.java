package io.patchmesh.fuzz;

import java.util.SplittableRandom;

/**
 * One parser that hostile bytes reach, with the input families that attack it.
 *
 * <p>The property every target must keep: {@link #feed} returns normally or throws one of the
 * exception types the code under test documents for bad input ({@link #expected}); anything else
 * (a NullPointerException, an index out of bounds, a DateTimeException) is a bug. Targets are not
 * thread-safe: one per thread.
 */
public interface FuzzTarget {
  /** Short name used in reports ("frame", "manifest", ...). */
  String name();

  /** One input drawn from this target's families (random, truncated, bit-flipped, oversized...). */
  byte[] generate(SplittableRandom random);

  /** Feeds {@code input} to the code under test; throws whatever it throws. */
  void feed(byte[] input) throws Exception;

  /** True for the documented, typed rejections of bad input. */
  boolean expected(Throwable thrown);
}
