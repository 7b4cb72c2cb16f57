package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.sim.SimAuthority;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The digest-first push-pull between real {@link Membership}s, and what a lying peer can do with it. */
class PushPullExchangeTest {
  private static final int N = 200;
  /** Push-pulls every few seconds; probes (nobody here answers them) practically never. */
  private static final MembershipConfig CONFIG =
      MembershipConfig.lan().withProbe(3_600_000, 500).withPushPullIntervalMillis(1_000);

  private final List<MemberInfo> infos = TestMesh.infos(N, 15);
  private final Roster roster = Roster.of(infos);
  private final SplittableRandom random = new SplittableRandom(15);
  private long now;

  private Membership node(int i) {
    return Membership.builder(infos.get(i)).config(CONFIG).random(random.split()).roster(roster)
        .authority(new SimAuthority(infos.get(i).id())).start(now);
  }

  private NodeId id(int i) {
    return infos.get(i).id();
  }

  /** Ticks {@code m} until it starts a push-pull; returns it (everything else it sends is dropped). */
  private Outbound nextPushPull(Membership m) {
    for (int step = 0; step < 1_000; step++) {
      now += 50;
      m.tick(now);
      for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
        if (o.frame().hasPushPull()) {
          drain(m);
          return o;
        }
      }
    }
    throw new AssertionError("no push-pull within 50 s");
  }

  private static List<PushPull> pushPulls(Membership m) {
    List<PushPull> out = new ArrayList<>();
    for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
      if (o.frame().hasPushPull()) {
        out.add(o.frame().getPushPull());
      }
    }
    return out;
  }

  private static void drain(Membership m) {
    while (m.pollOutbound() != null) { }
    while (m.pollEvent() != null) { }
  }

  private static Frame frame(PushPull pp) {
    return Frame.newBuilder().setPushPull(pp).build();
  }

  private static int members(List<PushPull> frames) {
    return frames.stream().mapToInt(PushPull::getMembersCount).sum();
  }

  /** Member {@code i}'s own signed ALIVE at {@code incarnation} (the simulation's authority believes it). */
  private MemberUpdate alive(int i, long incarnation) {
    return infos.get(i).toWire(incarnation, MemberStatus.ALIVE)
        .setSignature(ByteString.copyFrom(new byte[SimAuthority.SIGNATURE_BYTES])).build();
  }

  private static long incarnationOf(Membership m, NodeId id) {
    return m.members().stream().filter(x -> x.info().id().equals(id)).findFirst().orElseThrow().incarnation();
  }

  /** What an honest initiator sends for a view of the whole roster at incarnation 0. */
  private PushPull rosterDigest() {
    PushPullDigest d = new PushPullDigest(PushPullDigest.bucketsFor(N), random.nextLong(), random.nextLong());
    infos.forEach(info -> d.add(info.id().toByteString(), 0, MemberStatus.ALIVE));
    return d.writeTo(PushPull.newBuilder()).build();
  }

  @Test
  void periodicPushPullSendsADigestAndAgreeingViewsExchangeNoMembers() {
    Membership a = node(0);
    Membership b = node(1);
    drain(b);
    PushPull request = nextPushPull(a).frame().getPushPull();
    assertFalse(request.getReply());
    assertEquals(0, request.getMembersCount(), "a digest, not the member list");
    assertEquals(PushPullDigest.bucketsFor(N) * PushPullDigest.BYTES_PER_BUCKET, request.getDigests().size());
    b.onFrame(now, id(0), frame(request));
    assertTrue(pushPulls(b).isEmpty(), "same view, no manifests: nothing to say");
  }

  @Test
  void aDifferingEntryCrossesInBothDirectionsWithOnlyItsBucket() {
    Membership a = node(0);
    Membership b = node(1);
    // a heard member 5's refutation at incarnation 3 that b missed; b heard member 9's at 2
    a.onFrame(now, id(7), Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addUpdates(alive(5, 3))).build());
    b.onFrame(now, id(7), Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addUpdates(alive(9, 2))).build());
    drain(a);
    drain(b);
    Outbound request = nextPushPull(a); // to a random member: b answers in its place
    b.onFrame(now, id(0), request.frame());
    List<PushPull> reply = pushPulls(b);
    assertEquals(1, reply.size());
    assertTrue(reply.get(0).getReply());
    assertTrue(reply.get(0).getWantBucketsCount() >= 1 && reply.get(0).getWantBucketsCount() <= 2, reply.get(0).getWantBucketsList().toString());
    assertTrue(members(reply) < 40, "only the differing buckets: " + members(reply));
    a.onFrame(now, request.to(), frame(reply.get(0)));
    List<PushPull> entries = pushPulls(a);
    assertTrue(members(entries) < 40, "only the wanted buckets: " + members(entries));
    entries.forEach(pp -> b.onFrame(now, id(0), frame(pp)));
    assertEquals(3, incarnationOf(b, id(5)), "b learned what a knew");
    assertEquals(2, incarnationOf(a, id(9)), "a learned what b knew");
  }

  @Test
  void aLyingDigestThatClaimsAgreementHidesNothingFromHonestMembers() {
    Membership a = node(0);
    Membership b = node(1);
    a.onFrame(now, id(7), Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addUpdates(alive(5, 3))).build());
    drain(a);
    drain(b);
    // the liar (member 2) holds member 5's refutation too, but claims the stale roster view
    b.onFrame(now, id(2), frame(rosterDigest()));
    assertTrue(pushPulls(b).isEmpty(), "b believes it agrees with the liar: it sends the liar nothing");
    assertEquals(0, incarnationOf(b, id(5)));
    // ...which costs only that exchange: b's next one with an honest member still finds the difference
    Outbound request = nextPushPull(a); // to a random member: b answers in its place
    b.onFrame(now + 2_000, id(0), request.frame());
    pushPulls(b).forEach(pp -> a.onFrame(now, request.to(), frame(pp)));
    pushPulls(a).forEach(pp -> b.onFrame(now, id(0), frame(pp)));
    assertEquals(3, incarnationOf(b, id(5)));
  }

  @Test
  void aGarbageDigestGetsAtMostTheViewOncePerHoldOff() {
    Membership b = node(1);
    drain(b);
    PushPull garbage = rosterDigest().toBuilder()
        .setDigests(ByteString.copyFrom(new byte[PushPullDigest.bucketsFor(N) * PushPullDigest.BYTES_PER_BUCKET])).build();
    b.onFrame(now, id(2), frame(garbage));
    List<PushPull> answer = pushPulls(b);
    assertTrue(members(answer) <= N, "never more than the view: " + members(answer));
    b.onFrame(now + 10, id(2), frame(garbage));
    assertTrue(pushPulls(b).isEmpty(), "a repeat within the hold-off is not answered");
  }

  @Test
  void wantedBucketsAreServedOnlyToThePeerAskedOnceAndWithinTheDigest() {
    Membership b = node(1);
    drain(b);
    int buckets = PushPullDigest.bucketsFor(N);
    PushPull.Builder want = PushPull.newBuilder().setReply(true).setDigestBuckets(buckets);
    for (int i = 0; i < buckets; i++) {
      want.addWantBuckets(i);
    }
    b.onFrame(now, id(2), frame(want.build()));
    assertTrue(pushPulls(b).isEmpty(), "an unsolicited want gets nothing: no amplification");

    Outbound request = nextPushPull(b);
    NodeId partner = request.to();
    b.onFrame(now, partner, frame(PushPull.newBuilder().setReply(true).setDigestBuckets(buckets)
        .addWantBuckets(buckets).addWantBuckets(buckets + 7).build()));
    assertTrue(pushPulls(b).isEmpty(), "buckets outside the digest are ignored");

    request = nextPushPull(b);
    partner = request.to();
    b.onFrame(now, partner, frame(PushPull.newBuilder().setReply(true).setDigestBuckets(buckets).addWantBuckets(0).build()));
    List<PushPull> served = pushPulls(b);
    assertTrue(members(served) > 0 && members(served) < 40, "one bucket: " + members(served));
    PushPullDigest shape = new PushPullDigest(buckets, 0, 0);
    served.forEach(pp -> pp.getMembersList().forEach(u -> assertEquals(0, shape.bucketOf(u.getNodeId()))));
    b.onFrame(now, partner, frame(PushPull.newBuilder().setReply(true).setDigestBuckets(buckets).addWantBuckets(1).build()));
    assertTrue(pushPulls(b).isEmpty(), "one answer per digest");
  }

  @Test
  void malformedDigestIsDroppedAndCounted() {
    Membership b = node(1);
    drain(b);
    PushPull bad = rosterDigest().toBuilder().setDigestBuckets(3).build();
    b.onFrame(now, id(2), frame(bad));
    assertTrue(pushPulls(b).isEmpty());
    assertEquals(1, b.rejected(NewsRejection.MALFORMED));
  }

  @Test
  void anOlderPeersEmptyRequestStillGetsTheFullView() {
    Membership b = node(1);
    drain(b);
    b.onFrame(now, id(2), frame(PushPull.newBuilder().build()));
    List<PushPull> answer = pushPulls(b);
    assertNotNull(answer);
    assertEquals(N, members(answer), "self + the 199 others, as before digests");
  }
}
