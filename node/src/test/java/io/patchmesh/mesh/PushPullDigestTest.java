package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.PushPull;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PushPullDigestTest {
  private final SplittableRandom random = new SplittableRandom(15);

  private List<ByteString> ids(int n) {
    List<ByteString> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] id = new byte[32];
      random.nextBytes(id);
      ids.add(ByteString.copyFrom(id));
    }
    return ids;
  }

  private static PushPullDigest digest(int buckets, long k0, long k1, List<ByteString> ids, long[] incarnations) {
    PushPullDigest d = new PushPullDigest(buckets, k0, k1);
    for (int i = 0; i < ids.size(); i++) {
      d.add(ids.get(i), incarnations[i], MemberStatus.ALIVE);
    }
    return d;
  }

  @Test
  void bucketsGrowWithTheViewAsPowersOfTwoUpToTheCap() {
    assertEquals(1, PushPullDigest.bucketsFor(1));
    assertEquals(1, PushPullDigest.bucketsFor(8));
    assertEquals(2, PushPullDigest.bucketsFor(9));
    assertEquals(16, PushPullDigest.bucketsFor(100));
    assertEquals(2_048, PushPullDigest.bucketsFor(10_001));
    assertEquals(PushPullDigest.MAX_BUCKETS, PushPullDigest.bucketsFor(10_000_000));
  }

  @Test
  void sameViewGivesSameDigestWhateverTheOrderAndWireRoundTrip() {
    List<ByteString> ids = ids(500);
    long[] inc = new long[500];
    PushPullDigest a = digest(64, 1, 2, ids, inc);
    List<ByteString> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, new java.util.Random(3));
    PushPullDigest b = digest(64, 1, 2, shuffled, inc);
    assertTrue(a.differing(b).isEmpty());
    PushPullDigest parsed = PushPullDigest.parse(a.writeTo(PushPull.newBuilder()).build());
    assertNotNull(parsed);
    assertTrue(parsed.differing(a).isEmpty());
  }

  @Test
  void oneChangedEntryMarksExactlyItsBucket() {
    List<ByteString> ids = ids(500);
    long[] inc = new long[500];
    PushPullDigest a = digest(64, 1, 2, ids, inc);
    inc[123] = 1;
    PushPullDigest b = digest(64, 1, 2, ids, inc);
    BitSet diff = a.differing(b);
    assertEquals(1, diff.cardinality());
    assertTrue(diff.get(a.bucketOf(ids.get(123))));
  }

  @Test
  void aDifferenceIsSeenUnderEveryFreshKeyAndTheSumsDependOnTheKey() {
    List<ByteString> ids = ids(64);
    long[] inc = new long[64];
    long[] changed = inc.clone();
    changed[7] = 5;
    for (int round = 0; round < 500; round++) {
      long k0 = random.nextLong();
      long k1 = random.nextLong();
      assertEquals(1, digest(1, k0, k1, ids, inc).differing(digest(1, k0, k1, ids, changed)).cardinality());
    }
    PushPull one = digest(1, 1, 2, ids, inc).writeTo(PushPull.newBuilder()).build();
    PushPull other = digest(1, 3, 4, ids, inc).writeTo(PushPull.newBuilder()).build();
    assertNotEquals(one.getDigests(), other.getDigests(), "a member cannot precompute sums without the key");
  }

  @Test
  void malformedDigestsAreRefused() {
    PushPull good = new PushPullDigest(16, 1, 2).writeTo(PushPull.newBuilder()).build();
    assertNotNull(PushPullDigest.parse(good));
    assertNull(PushPullDigest.parse(good.toBuilder().setDigestBuckets(12).build()), "not a power of two");
    assertNull(PushPullDigest.parse(good.toBuilder().setDigestBuckets(PushPullDigest.MAX_BUCKETS * 2).build()), "too many");
    assertNull(PushPullDigest.parse(good.toBuilder().setDigestBuckets(32).build()), "sums do not fill the buckets");
    assertNull(PushPullDigest.parse(good.toBuilder().setDigestKey(ByteString.copyFrom(new byte[15])).build()), "short key");
    assertNull(PushPullDigest.parse(good.toBuilder().setDigests(good.getDigests().concat(ByteString.copyFrom(new byte[8]))).build()));
  }
}
