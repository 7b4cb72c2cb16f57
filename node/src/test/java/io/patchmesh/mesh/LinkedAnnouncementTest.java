package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A seed's new manifest reaches every agent linked to it in one hop, on virtual time (BENCHMARKS
 * 13p). By gossip alone it went to {@code gossipFanout} members, and the others heard of it from a
 * member that had fetched, checked and stored it first — on the shaped WAN bench, 2-8 s from the
 * publish to a site's first WAN byte. Now the announcer also sends it to each member it holds a link
 * to (the seed's links: every agent that dialled it), once per manifest, at most {@link
 * DirectAnnounces#MAX} frames.
 */
class LinkedAnnouncementTest {
  private static final MembershipConfig LAN = MembershipConfig.lan().withDeadReclaimMillis(600_000);
  private static final int AGENTS = 40;
  /** One hop and the check. */
  private static final long BOUND_MILLIS = TestMesh.LATENCY + TestMesh.VERIFY_DELAY + 10;

  /** The seed (node 0) and {@link #AGENTS} agents in four sites; each agent is linked to the seed only. */
  private static TestMesh mesh(long seed) {
    TestMesh mesh = new TestMesh();
    SplittableRandom random = new SplittableRandom(seed);
    List<MemberInfo> infos = new ArrayList<>();
    for (int i = 0; i <= AGENTS; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      random.nextBytes(id);
      infos.add(MemberInfo.of(NodeId.of(id), i == 0 ? "dc" : "site-" + (i % 4), List.of("10.0.0." + (i + 1) + ":7000"),
          i == 0 ? Role.ROLE_SEED : Role.ROLE_AGENT));
    }
    NodeId seedId = infos.get(0).id();
    Roster roster = Roster.of(infos);
    for (MemberInfo info : infos) {
      NodeId self = info.id();
      Predicate<NodeId> linked = id -> self.equals(seedId) || id.equals(seedId);
      mesh.add(info, Membership.builder(info).config(LAN).random(random.split()).linked(linked).roster(roster));
    }
    return mesh;
  }

  private static Announce manifest(int tag) {
    byte[] id = new byte[32];
    id[0] = (byte) tag;
    return Announce.newBuilder().setManifestId(ByteString.copyFrom(id)).setChannel("app/" + tag)
        .setVersion(1).setSize(1_000).build();
  }

  @Test
  void everyAgentLinkedToTheSeedHearsOfANewManifestInOneHop() {
    for (long seed = 1; seed <= 5; seed++) {
      TestMesh mesh = mesh(seed);
      mesh.runUntil(10_000 + seed * 977);
      Announce a = manifest(1);
      long at = mesh.now;
      int before = mesh.sent.size();
      mesh.announce(mesh.node(0), a);
      mesh.runUntil(at + BOUND_MILLIS);
      for (int i = 1; i <= AGENTS; i++) {
        Long verified = mesh.node(i).verifiedAt.get(a.getManifestId());
        assertTrue(verified != null && verified - at <= BOUND_MILLIS,
            "agent " + i + " verified at " + (verified == null ? "never" : "+" + (verified - at) + " ms") + " (seed " + seed + ")");
      }
      long direct = mesh.sent.subList(before, mesh.sent.size()).stream()
          .filter(s -> s[0] == mesh.node(0) && ((Frame) s[2]).hasAnnounce()).count();
      assertEquals(AGENTS, direct, "one Announce frame per linked agent");
      // announcing it again sends nothing: once per manifest verified
      int again = mesh.sent.size();
      mesh.node(0).membership.announce(a);
      mesh.drain(mesh.node(0));
      assertEquals(again, mesh.sent.size());
    }
  }
}
