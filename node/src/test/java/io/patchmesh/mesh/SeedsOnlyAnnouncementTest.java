package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.PushPull;
import io.patchmesh.proto.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A member that peers with seeds alone (issue 17: a laptop on a VPN interface) learns of a new
 * manifest the moment the seed announces it, on virtual time. Nobody but the seed can gossip to
 * it, and the seed's announcement gossip picks {@code gossipFanout} of all members: before, with
 * thirty agents, it was missed more often than not and the laptop learnt at its next push-pull
 * with the seed (up to a push-pull interval, 30 s or more, later). It says so in its push-pulls
 * ({@code peers_with_seeds_only}); the seed then sends it each announcement over the link it holds.
 */
class SeedsOnlyAnnouncementTest {
  private static final MembershipConfig LAN = MembershipConfig.lan().withDeadReclaimMillis(600_000);
  private static final int AGENTS = 30;
  /** Virtual time from the seed's announcement to the laptop's verification at most: one hop and the check. */
  private static final long BOUND_MILLIS = TestMesh.LATENCY + TestMesh.VERIFY_DELAY + 10;

  private static Announce manifest(int tag) {
    byte[] id = new byte[32];
    id[0] = (byte) tag;
    return Announce.newBuilder().setManifestId(ByteString.copyFrom(id)).setChannel("app/" + tag)
        .setVersion(1).setSize(1_000).build();
  }

  /**
   * The seed (node 0), the VPN laptop (node 1, which knows only what the seed tells it and reaches
   * the seed alone) and {@link #AGENTS} agents that know each other and the laptop. The laptop
   * joins by its link to the seed, as the runtime's --join does.
   */
  private static TestMesh mesh(long seed) {
    TestMesh mesh = new TestMesh();
    SplittableRandom random = new SplittableRandom(seed);
    List<MemberInfo> infos = new ArrayList<>();
    for (int i = 0; i < AGENTS + 2; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      random.nextBytes(id);
      infos.add(MemberInfo.of(NodeId.of(id), i == 1 ? "hotel" : "office", List.of("10.0.0." + (i + 1) + ":7000"),
          i == 0 ? Role.ROLE_SEED : Role.ROLE_AGENT));
    }
    NodeId seedId = infos.get(0).id();
    NodeId vpnId = infos.get(1).id();
    Roster roster = Roster.of(infos);
    for (int i = 0; i < infos.size(); i++) {
      NodeId self = infos.get(i).id();
      Predicate<NodeId> linked = id -> !((self.equals(vpnId) || id.equals(vpnId)) && !self.equals(seedId)
          && !id.equals(seedId));
      MembershipBuilder b = Membership.builder(infos.get(i)).config(LAN).random(random.split()).linked(linked);
      if (i == 1) {
        b.roster(Roster.empty()).reachable(m -> linked.test(m.id())).peersWithSeedsOnly(seedId::equals);
      } else {
        b.roster(roster);
      }
      mesh.add(infos.get(i), b);
    }
    TestMesh.Node vpn = mesh.node(1);
    TestMesh.Node seedNode = mesh.node(0);
    mesh.drop = (from, to) -> (from == vpn || to == vpn) && from != seedNode && to != seedNode;
    mesh.linkUp(vpn, seedNode);
    return mesh;
  }

  @Test
  void aNewManifestReachesAMemberThatPeersWithSeedsOnlyAtOnce() {
    List<Long> delays = new ArrayList<>();
    for (long seed = 1; seed <= 10; seed++) {
      TestMesh mesh = mesh(seed);
      mesh.runUntil(10_000 + seed * 1_337); // joined, and the announcement lands at a different phase each run
      for (int tag = 1; tag <= 3; tag++) {
        Announce a = manifest(tag);
        long at = mesh.now;
        mesh.announce(mesh.node(0), a);
        mesh.runUntil(at + 5_000);
        Long verified = mesh.node(1).verifiedAt.get(a.getManifestId());
        delays.add(verified == null ? -1 : verified - at);
      }
    }
    assertTrue(delays.stream().allMatch(d -> d >= 0 && d <= BOUND_MILLIS),
        "every announcement reached the VPN laptop within " + BOUND_MILLIS + " ms of virtual time: " + delays);
  }

  /**
   * A rogue member (a valid certificate) claiming to peer with seeds alone, flooding the seed with
   * flagged push-pulls and repeating the seed's announcements back, is sent one Announce per
   * manifest the seed itself verified: nothing for the frames it sends.
   */
  @Test
  void aMemberClaimingToPeerWithSeedsOnlyGetsOneAnnounceFramePerManifestWhateverItSends() {
    TestMesh mesh = mesh(7);
    mesh.runUntil(10_000);
    TestMesh.Node seedNode = mesh.node(0);
    TestMesh.Node rogue = mesh.node(5);
    Announce a = manifest(1);
    Announce b = manifest(2);
    mesh.announce(seedNode, a);
    mesh.announce(seedNode, b);
    int before = mesh.sent.size();
    Frame flagged = Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).setPeersWithSeedsOnly(true)).build();
    for (int i = 0; i < 1_000; i++) {
      seedNode.membership.onFrame(mesh.now, rogue.id(), flagged);
      seedNode.membership.onFrame(mesh.now, rogue.id(), Frame.newBuilder().setAnnounce(i % 2 == 0 ? a : b).build());
      mesh.drain(seedNode);
    }
    long announcesToRogue = countTo(mesh, before, seedNode, rogue, true);
    assertEquals(0, announcesToRogue, "the seed re-announces nothing it verified before");
    assertTrue(countTo(mesh, before, seedNode, rogue, false) <= 2, "2,000 frames drew next to nothing");

    Announce c = manifest(3);
    mesh.announce(seedNode, c);
    assertEquals(1, countTo(mesh, before, seedNode, rogue, true), "one Announce frame for the one new manifest");
  }

  /** Frames the seed sent the rogue since {@code from}: direct Announce frames, or all frames. */
  private static long countTo(TestMesh mesh, int from, TestMesh.Node sender, TestMesh.Node to, boolean announces) {
    return mesh.sent.subList(from, mesh.sent.size()).stream()
        .filter(s -> s[0] == sender && s[1] == to)
        .filter(s -> !announces || ((Frame) s[2]).hasAnnounce())
        .count();
  }

  /** Any number of members claiming it is remembered up to a cap; the unlinked are forgotten first. */
  @Test
  void theSetOfMembersThatPeerWithSeedsOnlyIsBounded() {
    java.util.Set<NodeId> linkedNow = new java.util.HashSet<>();
    SeedsOnlyMembers set = new SeedsOnlyMembers(linkedNow::contains);
    SplittableRandom random = new SplittableRandom(3);
    List<NodeId> first = new ArrayList<>();
    for (int i = 0; i < SeedsOnlyMembers.MAX * 3; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      random.nextBytes(id);
      NodeId n = NodeId.of(id);
      linkedNow.add(n);
      set.note(n, true);
      if (i < 10) {
        first.add(n);
      }
    }
    assertEquals(SeedsOnlyMembers.MAX, set.size());
    assertEquals(SeedsOnlyMembers.MAX, set.linkedNow().size());
    // those whose links went make room for new ones
    first.forEach(linkedNow::remove);
    byte[] id = new byte[NodeId.LENGTH];
    random.nextBytes(id);
    NodeId late = NodeId.of(id);
    linkedNow.add(late);
    set.note(late, true);
    assertTrue(set.linkedNow().contains(late));
    assertTrue(set.size() <= SeedsOnlyMembers.MAX);
    // a member that stops saying it forgets it
    set.note(late, false);
    assertTrue(!set.linkedNow().contains(late));
  }
}
