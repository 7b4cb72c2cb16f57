package io.patchmesh.transfer.delta;

/**
 * Bounds on sub-chunk deltas, enforced on both sides: a requester names at most {@link #MAX_BASES}
 * bases of at most {@link #MAX_BASE_BYTES} together; a delta has at most {@link #MAX_OPS} ops. A
 * server bounds its encoding work by them, a receiver rejects any delta outside them.
 */
public final class DeltaLimits {
  public static final int MAX_BASES = 4;
  public static final int MAX_BASE_BYTES = 512 * 1024;
  public static final int MAX_OPS = 4096;
  /** A delta is sent only if its wire size is at most this share of the chunk (meaningfully smaller). */
  public static final double WORTHWHILE = 0.75;

  private DeltaLimits() {}
}
