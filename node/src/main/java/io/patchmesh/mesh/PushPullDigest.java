package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.PushPull;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * A member view hashed into buckets, so two members can find where their views differ without
 * sending them: push-pull by digest first (issue 15). Members fall into buckets by the top bits
 * of their id; a bucket's digest is the sum (mod 2^64) of the keyed {@link SipHash} of each entry
 * in it: id, incarnation and state. A sum is independent of the order entries are added in, and
 * one entry's change changes its bucket's sum. The member's signature is not hashed: an entry is
 * sent only when this node holds a signature (or a roster entry) for it, and two signed entries of
 * one member at one incarnation and claim differ only if the member itself signed two different
 * statements there — a lie that can hide nothing but its own addresses.
 *
 * <p>Why keyed, and keyed afresh by each exchange's initiator: a member controls its own signed
 * statements. With a fixed public hash it could search for statements of its own whose hashes
 * cancel another member's difference in a shared bucket, so that two honest members holding
 * different news about a third would see equal digests and never exchange it. Under a random
 * 128-bit key it cannot compute any entry's hash before the exchange, so differing views look
 * equal only by a 2^-64 chance per bucket and exchange — and the next exchange draws a new key.
 * A lying peer can only lie about its own view: what it makes us send or skip concerns the
 * exchange with itself, and every entry it sends is checked as any gossip is.
 */
final class PushPullDigest {
  /** Most buckets a digest may have: 128 KiB of sums, one frame. */
  static final int MAX_BUCKETS = 1 << 14;
  /** Members per bucket the initiator aims at: what one differing entry costs to resend. */
  static final int MEMBERS_PER_BUCKET = 8;
  static final int KEY_BYTES = 16;
  static final int BYTES_PER_BUCKET = 8;

  private final int buckets;
  private final int shift;
  private final long k0;
  private final long k1;
  private final long[] sums;
  private final byte[] entry = new byte[NodeId.LENGTH + 9];

  PushPullDigest(int buckets, long k0, long k1) {
    if (!validBuckets(buckets)) {
      throw new IllegalArgumentException("buckets must be a power of two within [1, " + MAX_BUCKETS + "]");
    }
    this.buckets = buckets;
    this.shift = 32 - Integer.numberOfTrailingZeros(buckets);
    this.k0 = k0;
    this.k1 = k1;
    this.sums = new long[buckets];
  }

  /** Buckets for a view of {@code members} entries: a power of two near members / 8, capped. */
  static int bucketsFor(int members) {
    int want = Math.min(MAX_BUCKETS, Math.max(1, (members + MEMBERS_PER_BUCKET - 1) / MEMBERS_PER_BUCKET));
    return want == 1 ? 1 : Integer.highestOneBit(want - 1) << 1;
  }

  static boolean validBuckets(int buckets) {
    return buckets >= 1 && buckets <= MAX_BUCKETS && Integer.bitCount(buckets) == 1;
  }

  /**
   * The digest a request carries, to be recomputed by the receiver; null if the fields are
   * missing or out of bounds (a bucket count that is no power of two or above
   * {@link #MAX_BUCKETS}, a key that is not 16 bytes, sums that do not fill the buckets exactly).
   */
  static PushPullDigest parse(PushPull pp) {
    int buckets = pp.getDigestBuckets();
    if (!validBuckets(buckets) || pp.getDigestKey().size() != KEY_BYTES
        || pp.getDigests().size() != buckets * BYTES_PER_BUCKET) {
      return null;
    }
    ByteBuffer key = pp.getDigestKey().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    PushPullDigest d = new PushPullDigest(buckets, key.getLong(), key.getLong());
    ByteBuffer sums = pp.getDigests().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < buckets; i++) {
      d.sums[i] = sums.getLong();
    }
    return d;
  }

  /** An empty digest with the same buckets and key, for this node to fill with its own view. */
  PushPullDigest sameShape() {
    return new PushPullDigest(buckets, k0, k1);
  }

  int buckets() {
    return buckets;
  }

  /** The bucket of the member with wire id {@code id} (32 bytes). */
  int bucketOf(ByteString id) {
    if (buckets == 1) {
      return 0;
    }
    int top = (id.byteAt(0) & 0xFF) << 24 | (id.byteAt(1) & 0xFF) << 16 | (id.byteAt(2) & 0xFF) << 8 | (id.byteAt(3) & 0xFF);
    return top >>> shift;
  }

  /** Adds one entry of the view: a member's id, incarnation and state. */
  void add(ByteString id, long incarnation, MemberStatus status) {
    id.copyTo(entry, 0);
    for (int i = 0; i < 8; i++) {
      entry[NodeId.LENGTH + i] = (byte) (incarnation >>> (8 * i));
    }
    entry[NodeId.LENGTH + 8] = (byte) status.ordinal();
    sums[bucketOf(id)] += SipHash.hash(k0, k1, entry, entry.length);
  }

  /** The buckets whose sums differ from {@code other}'s (same shape required). */
  BitSet differing(PushPullDigest other) {
    if (other.buckets != buckets || other.k0 != k0 || other.k1 != k1) {
      throw new IllegalArgumentException("digests of different shapes");
    }
    BitSet diff = new BitSet(buckets);
    for (int i = 0; i < buckets; i++) {
      if (sums[i] != other.sums[i]) {
        diff.set(i);
      }
    }
    return diff;
  }

  /** Writes this digest (bucket count, key, sums) into a request. */
  PushPull.Builder writeTo(PushPull.Builder pp) {
    ByteBuffer key = ByteBuffer.allocate(KEY_BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(k0).putLong(k1);
    ByteBuffer out = ByteBuffer.allocate(buckets * BYTES_PER_BUCKET).order(ByteOrder.LITTLE_ENDIAN);
    for (long s : sums) {
      out.putLong(s);
    }
    return pp.setDigestBuckets(buckets).setDigestKey(ByteString.copyFrom(key.array()))
        .setDigests(ByteString.copyFrom(out.array()));
  }
}
