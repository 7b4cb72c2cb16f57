package io.patchmesh.transfer.delta;

/**
 * Bounds on a manifest sent as a delta against an earlier manifest of its channel (wire.proto
 * {@code ManifestPart.delta}), enforced on both sides and separate from the chunk deltas'
 * {@link DeltaLimits}: a server encodes only when base and envelope are at most {@link #MAX_BYTES}
 * (the encoder addresses offsets below 16 MiB; 8 MiB of manifest is ~200,000 chunk refs, a 13 GB
 * patch at the 64 KiB default) and sends the delta only if its wire size is at most
 * {@link #WORTHWHILE} of the envelope and {@link #MAX_DELTA_BYTES}; a receiver rejects anything
 * outside them before it allocates the envelope's bytes (which its download budget holds first).
 */
public final class ManifestDeltaLimits {
  /** Largest base (signed manifest bytes) and largest rebuilt envelope. */
  public static final int MAX_BYTES = 8 << 20;
  /** Most ops in one manifest delta (a small edit needs a handful; the encoder stops adding copies here). */
  public static final int MAX_OPS = 16_384;
  /** Largest delta on the wire: one manifest part. */
  public static final int MAX_DELTA_BYTES = 256 * 1024;
  /** A delta is sent only if its wire size is at most this share of the envelope. */
  public static final double WORTHWHILE = 0.5;

  private ManifestDeltaLimits() {}
}
