package io.patchmesh.transfer.delta;

import io.patchmesh.proto.Delta;
import java.util.List;
import java.util.Optional;

/**
 * A signed manifest envelope as a delta against an earlier manifest's signed bytes (its
 * {@code SignedManifest.manifest}, the bytes its id hashes, so every holder's base is the same).
 * A small edit changes a few chunk refs, the file's chunk indexes after an insertion, the totals
 * and the signatures; everything else is copied. Bounded by {@link ManifestDeltaLimits}. The
 * receiver's result is only bytes: it is verified exactly as a full download would be.
 */
public final class ManifestDelta {
  private static final DeltaEncoder ENCODER = new DeltaEncoder();

  private ManifestDelta() {}

  /**
   * The delta of {@code envelope} against {@code base}, if both are within the limits and it is
   * worthwhile (at most {@link ManifestDeltaLimits#WORTHWHILE} of the envelope, one part at most).
   */
  public static Optional<Delta> encode(byte[] envelope, byte[] base) {
    if (envelope.length == 0 || envelope.length > ManifestDeltaLimits.MAX_BYTES || base.length == 0
        || base.length > ManifestDeltaLimits.MAX_BYTES) {
      return Optional.empty();
    }
    Delta d = ENCODER.encode(envelope, List.of(base), ManifestDeltaLimits.MAX_OPS);
    int size = d.getSerializedSize();
    if (size > ManifestDeltaLimits.MAX_DELTA_BYTES || size > envelope.length * ManifestDeltaLimits.WORTHWHILE) {
      return Optional.empty();
    }
    return Optional.of(d);
  }

  /**
   * Whether a peer's delta is within the limits for an envelope of {@code total} bytes, checked
   * before anything is allocated for it: null if so, else why not.
   */
  public static String outOfBounds(Delta delta, long total) {
    if (total <= 0 || total > ManifestDeltaLimits.MAX_BYTES) {
      return "a delta for an envelope of " + total + " bytes";
    }
    if (delta.getOpsCount() == 0 || delta.getOpsCount() > ManifestDeltaLimits.MAX_OPS) {
      return "a delta of " + delta.getOpsCount() + " ops";
    }
    if (delta.getSerializedSize() > ManifestDeltaLimits.MAX_DELTA_BYTES) {
      return "a delta of " + delta.getSerializedSize() + " bytes";
    }
    return null;
  }

  /**
   * Rebuilds the envelope of {@code total} bytes from {@code delta} and this node's own verified
   * {@code base}, every op bounds-checked ({@link DeltaDecoder}). The caller verifies the result.
   */
  public static byte[] decode(Delta delta, byte[] base, long total) throws DeltaException {
    String why = outOfBounds(delta, total);
    if (why != null) {
      throw new DeltaException(why);
    }
    if (base.length > ManifestDeltaLimits.MAX_BYTES) {
      throw new DeltaException("a base of " + base.length + " bytes");
    }
    return DeltaDecoder.decode(delta, List.of(base), (int) total, ManifestDeltaLimits.MAX_OPS);
  }
}
