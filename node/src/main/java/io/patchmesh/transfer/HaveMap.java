package io.patchmesh.transfer;

import com.google.protobuf.ByteString;
import io.patchmesh.trust.ManifestId;
import java.util.BitSet;

/**
 * Which chunks of one manifest a node holds: bit {@code i} stands for {@code Manifest.chunks[i]}.
 *
 * <p>Invariants: the chunk count is fixed at construction and equals the manifest's; no bit at or
 * beyond it is ever set; {@link #count()} always equals the number of set bits (kept incrementally
 * so progress and completeness are O(1)). Mutable and not thread-safe: it belongs to one picker or
 * one peer record, driven by one thread.
 *
 * <p>Wire form ({@code patchmesh.HaveMap}): bits LSB-first per byte, exactly ceil(n/8) bytes, the
 * unused high bits of the last byte zero; or {@code complete=true} with no bits. Parsing is strict
 * because a have-map sizes the receiver's state; a sloppy one is a confused or hostile peer.
 */
public final class HaveMap {
  private final int chunkCount;
  private final BitSet bits;
  private int count;

  /** An empty have-map over {@code chunkCount} chunks. */
  public HaveMap(int chunkCount) {
    if (chunkCount < 0) {
      throw new IllegalArgumentException("negative chunk count " + chunkCount);
    }
    this.chunkCount = chunkCount;
    this.bits = new BitSet(chunkCount);
  }

  /** A have-map with every chunk set (a seed, or a node that completed). */
  public static HaveMap complete(int chunkCount) {
    HaveMap map = new HaveMap(chunkCount);
    map.bits.set(0, chunkCount);
    map.count = chunkCount;
    return map;
  }

  public int chunkCount() {
    return chunkCount;
  }

  /** Number of chunks held. */
  public int count() {
    return count;
  }

  public boolean isComplete() {
    return count == chunkCount;
  }

  public boolean has(int index) {
    checkIndex(index);
    return bits.get(index);
  }

  /** Marks {@code index} held; returns true if it was not held before. */
  public boolean set(int index) {
    checkIndex(index);
    if (bits.get(index)) {
      return false;
    }
    bits.set(index);
    count++;
    return true;
  }

  /**
   * Marks {@code index} not held; returns true if it was held. For a copy that withdraws a claim
   * (a chunk the store dropped as corrupt on read), never for a picker's own map.
   */
  public boolean clear(int index) {
    checkIndex(index);
    if (!bits.get(index)) {
      return false;
    }
    bits.clear(index);
    count--;
    return true;
  }

  /** Index of the first chunk not held at or after {@code from}, or -1. */
  public int nextMissing(int from) {
    int i = bits.nextClearBit(from);
    return i < chunkCount ? i : -1;
  }

  /** Index of the first chunk held at or after {@code from}, or -1. */
  public int nextSetFrom(int from) {
    return bits.nextSetBit(from);
  }

  /**
   * The bits themselves, for word-wise set operations by the picker (same package). Read only:
   * writing would break the count invariant.
   */
  BitSet bits() {
    return bits;
  }

  public HaveMap copy() {
    HaveMap c = new HaveMap(chunkCount);
    c.bits.or(bits);
    c.count = count;
    return c;
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= chunkCount) {
      throw new IndexOutOfBoundsException("chunk index " + index + " outside 0.." + (chunkCount - 1));
    }
  }

  /** The wire form; a full map uses the {@code complete} shortcut and sends no bits. */
  public io.patchmesh.proto.HaveMap toProto(ManifestId manifest) {
    io.patchmesh.proto.HaveMap.Builder b =
        io.patchmesh.proto.HaveMap.newBuilder()
            .setManifestId(manifest.toByteString())
            .setChunkCount(chunkCount);
    if (isComplete()) {
      return b.setComplete(true).build();
    }
    byte[] out = new byte[byteLength(chunkCount)];
    for (int i = bits.nextSetBit(0); i >= 0; i = bits.nextSetBit(i + 1)) {
      out[i >>> 3] |= (byte) (1 << (i & 7));
    }
    return b.setBits(ByteString.copyFrom(out)).build();
  }

  /**
   * Parses a peer's have-map for {@code manifest}, which has {@code chunkCount} chunks.
   *
   * @throws HaveMapException if it names another manifest, another chunk count, has the wrong
   *     number of bytes, sets bits beyond the chunk count, or combines {@code complete} with bits
   */
  public static HaveMap fromProto(io.patchmesh.proto.HaveMap proto, ManifestId manifest, int chunkCount)
      throws HaveMapException {
    if (!proto.getManifestId().equals(manifest.toByteString())) {
      throw new HaveMapException("have-map names another manifest");
    }
    long declared = Integer.toUnsignedLong(proto.getChunkCount());
    if (declared != chunkCount) {
      throw new HaveMapException(
          "have-map chunk_count " + declared + " != manifest's " + chunkCount);
    }
    ByteString raw = proto.getBits();
    if (proto.getComplete()) {
      if (!raw.isEmpty()) {
        throw new HaveMapException("complete have-map must not carry bits");
      }
      return complete(chunkCount);
    }
    int expected = byteLength(chunkCount);
    if (raw.size() != expected) {
      throw new HaveMapException("have-map bits length " + raw.size() + " != " + expected);
    }
    HaveMap map = new HaveMap(chunkCount);
    for (int byteIndex = 0; byteIndex < expected; byteIndex++) {
      int b = raw.byteAt(byteIndex) & 0xff;
      for (int bit = 0; bit < 8 && b != 0; bit++, b >>>= 1) {
        if ((b & 1) == 0) {
          continue;
        }
        int index = byteIndex * 8 + bit;
        if (index >= chunkCount) {
          throw new HaveMapException("have-map sets bit " + index + " beyond chunk count " + chunkCount);
        }
        map.bits.set(index);
        map.count++;
      }
    }
    return map;
  }

  static int byteLength(int chunkCount) {
    return (chunkCount + 7) >>> 3;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HaveMap other && other.chunkCount == chunkCount && other.bits.equals(bits);
  }

  @Override
  public int hashCode() {
    return 31 * chunkCount + bits.hashCode();
  }

  @Override
  public String toString() {
    return "HaveMap[" + count + "/" + chunkCount + "]";
  }
}
