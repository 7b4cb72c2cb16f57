package io.patchmesh.transfer.delta;

import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import java.util.List;

/**
 * Rebuilds a chunk from a peer's delta and the receiver's own verified bases. Every op is checked
 * before a byte is copied, and the output must have exactly the size the manifest declares; the
 * caller still hashes the result against the chunk id before storing it (a well-formed delta can
 * still be wrong).
 */
public final class DeltaDecoder {
  private DeltaDecoder() {}

  public static byte[] decode(Delta delta, List<byte[]> bases, int expectedSize) throws DeltaException {
    return decode(delta, bases, expectedSize, DeltaLimits.MAX_OPS);
  }

  /** As {@link #decode(Delta, List, int)}, with at most {@code maxOps} ops (manifests: {@link ManifestDeltaLimits}). */
  public static byte[] decode(Delta delta, List<byte[]> bases, int expectedSize, int maxOps) throws DeltaException {
    if (expectedSize <= 0) {
      throw new DeltaException("bad expected size " + expectedSize);
    }
    if (delta.getOpsCount() == 0 || delta.getOpsCount() > maxOps) {
      throw new DeltaException(delta.getOpsCount() + " ops");
    }
    byte[] out = new byte[expectedSize];
    int pos = 0;
    for (DeltaOp op : delta.getOpsList()) {
      int n;
      boolean literal = !op.getLiteral().isEmpty();
      if (literal) {
        if (op.getLength() != 0 || op.getOffset() != 0 || op.getBase() != 0) {
          throw new DeltaException("literal op with copy fields");
        }
        n = op.getLiteral().size();
      } else {
        // uint32 on the wire: Java sees values >= 2^31 as negative ints.
        long base = Integer.toUnsignedLong(op.getBase());
        long offset = Integer.toUnsignedLong(op.getOffset());
        long length = Integer.toUnsignedLong(op.getLength());
        if (length == 0) {
          throw new DeltaException("empty op");
        }
        if (base >= bases.size()) {
          throw new DeltaException("copy from base " + base + " of " + bases.size());
        }
        byte[] b = bases.get((int) base);
        if (offset + length > b.length) {
          throw new DeltaException("copy " + offset + "+" + length + " outside a base of " + b.length);
        }
        n = (int) length;
      }
      if (n > expectedSize - pos) {
        throw new DeltaException("output longer than the chunk's " + expectedSize + " bytes");
      }
      if (literal) {
        op.getLiteral().copyTo(out, pos);
      } else {
        System.arraycopy(bases.get(op.getBase()), op.getOffset(), out, pos, n);
      }
      pos += n;
    }
    if (pos != expectedSize) {
      throw new DeltaException("output " + pos + " bytes, chunk has " + expectedSize);
    }
    return out;
  }
}
