package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Announce;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DisseminationTest {
  private static final MembershipConfig LAN = MembershipConfig.lan();

  private static Announce manifest(int tag, long version) {
    byte[] id = new byte[32];
    id[0] = (byte) tag;
    return Announce.newBuilder().setManifestId(ByteString.copyFrom(id))
        .setChannel("openssl/bookworm-amd64").setVersion(version).setSize(1_000).build();
  }

  @Test
  void leaveSpreadsAsLeftNotDead() {
    TestMesh mesh = TestMesh.ofRoster(6, LAN, 21);
    mesh.runUntil(3_000);
    TestMesh.Node leaver = mesh.node(2);
    leaver.membership.leave(mesh.now);
    mesh.drain(leaver);
    mesh.runUntil(mesh.now + 2_000);
    leaver.down = true; // the process exits after its LEFT went out
    mesh.runUntil(mesh.now + 20_000);
    assertEquals(MemberStatus.LEFT, leaver.membership.self().status());
    for (TestMesh.Node n : mesh.others(leaver)) {
      assertEquals(MemberStatus.LEFT, n.viewOf(leaver).status());
      assertTrue(n.memberEvents().stream().noneMatch(e -> e.newState() == MemberStatus.DEAD
          || e.newState() == MemberStatus.SUSPECT));
    }
  }

  @Test
  void announcementReachesEveryNodeEachHopFromAVerifiedAnnouncer() {
    TestMesh mesh = TestMesh.ofRoster(12, LAN, 22);
    mesh.runUntil(2_000);
    Announce a = manifest(1, 7);
    mesh.announce(mesh.node(0), a);
    mesh.runUntil(mesh.now + 5_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertNotNull(n.verifiedAt.get(a.getManifestId()), "verified at " + n.id().shortHex());
      for (AnnouncementHeard h : n.heard) {
        TestMesh.Node from = mesh.nodes.stream().filter(x -> x.id().equals(h.from())).findFirst().orElseThrow();
        Long fromVerified = from.verifiedAt.get(a.getManifestId());
        assertNotNull(fromVerified, "only nodes that verified announce");
      }
    }
  }

  @Test
  void announcementThatFailsVerificationGoesNoFurther() {
    TestMesh mesh = TestMesh.ofRoster(12, LAN, 23);
    mesh.runUntil(2_000);
    Announce forged = manifest(66, 99);
    mesh.verifies = a -> !a.getManifestId().equals(forged.getManifestId());
    TestMesh.Node liar = mesh.node(5); // a node that announces what nobody can verify
    mesh.announce(liar, forged);
    mesh.runUntil(mesh.now + 30_000);
    for (TestMesh.Node n : mesh.others(liar)) {
      assertFalse(n.verifiedAt.containsKey(forged.getManifestId()));
      assertTrue(n.heard.stream().allMatch(h -> h.from().equals(liar.id())),
          "heard only from the liar itself, never re-spread");
    }
    long spreaders = mesh.sent.stream()
        .filter(s -> s[0] != liar && carries((io.patchmesh.proto.Frame) s[2], forged)).count();
    assertEquals(0, spreaders);
  }

  @Test
  void pushPullBringsReturningNodeViewAndManifestDigestUpToDate() {
    // Nodes join through seed A: links, not a roster.
    List<MemberInfo> infos = TestMesh.infos(4, 24);
    TestMesh mesh = new TestMesh();
    MembershipConfig config = LAN.withPushPullIntervalMillis(10_000);
    SplittableRandom random = new SplittableRandom(24);
    for (MemberInfo info : infos) {
      mesh.add(info, Membership.builder(info).config(config).random(random.split()));
    }
    TestMesh.Node seed = mesh.node(0);
    TestMesh.Node returning = mesh.node(3);
    for (int i = 1; i < 4; i++) {
      mesh.linkUp(mesh.node(i), seed);
    }
    mesh.runUntil(5_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertEquals(4, n.membership.members().size(), "everyone learnt everyone through the seed");
    }

    // The returning node is cut off; meanwhile a manifest is published and its gossip dies out.
    mesh.drop = (from, to) -> from == returning || to == returning;
    mesh.runUntil(10_000);
    Announce a = manifest(2, 3);
    mesh.announce(seed, a);
    mesh.runUntil(80_000);
    assertFalse(returning.verifiedAt.containsKey(a.getManifestId()));
    assertTrue(returning.membership.members().size() < 4 || returning.viewOf(seed).status() != MemberStatus.ALIVE);

    // The partition heals: the transport reconnects to the seed.
    mesh.drop = (from, to) -> false;
    mesh.linkUp(returning, seed);
    mesh.runUntil(100_000);
    assertTrue(returning.heard.stream().anyMatch(h -> h.announce().equals(a)),
        "the manifest digest in push-pull told it about the manifest it missed");
    assertTrue(returning.verifiedAt.containsKey(a.getManifestId()));
    for (TestMesh.Node n : mesh.nodes) {
      assertEquals(4, n.membership.members().size());
      assertTrue(n.membership.members().stream().allMatch(m -> m.status() == MemberStatus.ALIVE),
          "all alive at " + n.id().shortHex() + ": " + n.membership.members());
    }
  }

  private static boolean carries(io.patchmesh.proto.Frame f, Announce a) {
    if (f.hasPing()) {
      return f.getPing().getAnnouncesList().contains(a);
    }
    if (f.hasAck()) {
      return f.getAck().getAnnouncesList().contains(a);
    }
    return f.hasPushPull() && f.getPushPull().getManifestsList().contains(a);
  }
}
