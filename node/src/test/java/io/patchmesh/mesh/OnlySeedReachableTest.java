package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A member only the seed can reach (issue 17: a laptop on a VPN interface peers with no one but
 * seeds; its own dials are refused by its policy, and it refuses every agent's link), on virtual
 * time. The other agents' probes of it fail unless the seed relays them, so it is suspected again
 * and again and must refute through the seed each time. Its gossip, push-pull and probes must go
 * to members it can reach: spent on members it cannot reach, its refutations were lost, and the
 * whole mesh, the seed included (linked to it all along), declared it dead within seconds of its
 * joining — the seed then announced new manifests to everyone but it (LaptopPolicyProcessTest).
 */
class OnlySeedReachableTest {
  private static final MembershipConfig LAN = MembershipConfig.lan().withDeadReclaimMillis(600_000);
  private static final String[] SITES = {"dc", "hotel", "hotel", "night", "train", "train", "cafe"};

  /** The seed (node 0), the VPN laptop (node 1) and five agents; the VPN laptop reaches only the seed. */
  private static TestMesh mesh(boolean fixed, long seed) {
    return mesh(fixed, false, seed);
  }

  /** {@code agentsSkipIt}: the agents know the laptop refuses them (its typed Goodbye) and leave it out of whom they reach. */
  private static TestMesh mesh(boolean fixed, boolean agentsSkipIt, long seed) {
    TestMesh mesh = new TestMesh();
    SplittableRandom random = new SplittableRandom(seed);
    List<MemberInfo> infos = new java.util.ArrayList<>();
    for (int i = 0; i < SITES.length; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      random.nextBytes(id);
      infos.add(MemberInfo.of(NodeId.of(id), SITES[i], List.of("10.0.0." + (i + 1) + ":7000"),
          i == 0 ? Role.ROLE_SEED : Role.ROLE_AGENT));
    }
    Roster roster = Roster.of(infos);
    NodeId seedId = infos.get(0).id();
    NodeId vpnId = infos.get(1).id();
    for (int i = 0; i < infos.size(); i++) {
      NodeId self = infos.get(i).id();
      MembershipBuilder b = Membership.builder(infos.get(i)).config(LAN).random(random.split()).roster(roster);
      if (fixed) {
        // every pair is linked but the VPN laptop and an agent
        Predicate<NodeId> linked = id -> !((self.equals(vpnId) || id.equals(vpnId)) && !self.equals(seedId)
            && !id.equals(seedId));
        b.linked(linked);
        if (i == 1 || agentsSkipIt) {
          b.reachable(m -> linked.test(m.id()));
        }
      }
      mesh.add(infos.get(i), b);
    }
    TestMesh.Node vpn = mesh.node(1);
    TestMesh.Node seedNode = mesh.node(0);
    mesh.drop = (from, to) -> (from == vpn || to == vpn) && from != seedNode && to != seedNode;
    return mesh;
  }

  private static boolean everDeclaredDead(TestMesh.Node observer, TestMesh.Node member) {
    return observer.memberEvents().stream()
        .anyMatch(e -> e.member().info().id().equals(member.id()) && e.newState() == MemberStatus.DEAD);
  }

  @Test
  void aMemberOnlyTheSeedReachesStaysAliveAtTheSeed() {
    for (long seed = 1; seed <= 5; seed++) {
      TestMesh mesh = mesh(true, seed);
      mesh.runUntil(180_000);
      TestMesh.Node vpn = mesh.node(1);
      // the seed, linked to it all along, never declares it dead (the agents, whose probes of it
      // fail unless the seed relays them, may now and then, briefly: they cannot reach it anyway)
      assertTrue(!everDeclaredDead(mesh.node(0), vpn), "run " + seed + ": declared dead at the seed");
      // it accuses nobody it cannot reach: it does not probe them
      for (TestMesh.Node other : mesh.others(vpn)) {
        assertTrue(!everDeclaredDead(vpn, other), "run " + seed + ": it declared " + other.id().shortHex() + " dead");
      }
      assertEquals(MemberStatus.ALIVE, mesh.node(0).viewOf(vpn).status());
    }
  }

  /**
   * The agents whose links it refused leave it out of whom they probe (runtime MemberReach, from
   * the typed refusal): it is no longer suspected every few seconds, so it refutes far less.
   */
  @Test
  void agentsThatKnowItRefusesThemStopSuspectingIt() {
    long refutationsProbed = 0;
    long refutationsSkipped = 0;
    for (long seed = 1; seed <= 5; seed++) {
      TestMesh probed = mesh(true, false, seed);
      probed.runUntil(180_000);
      refutationsProbed += probed.node(1).membership.self().incarnation();
      TestMesh skipped = mesh(true, true, seed);
      skipped.runUntil(180_000);
      refutationsSkipped += skipped.node(1).membership.self().incarnation();
      assertTrue(!everDeclaredDead(skipped.node(0), skipped.node(1)), "run " + seed + ": declared dead at the seed");
    }
    System.out.println("VPN laptop refutations in 5 x 180 s: agents probing it " + refutationsProbed
        + ", agents skipping it " + refutationsSkipped);
    assertTrue(refutationsSkipped * 10 <= refutationsProbed,
        "refutations: " + refutationsProbed + " while probed, " + refutationsSkipped + " while skipped");
  }

  /**
   * Before: it gossiped and probed at random, mostly at members it cannot reach, and was declared
   * dead — at the seed too until a node checked each suspect it heard of at once (the check's Ack
   * brings the seed its refutation: MixedFleetDetectionTest); at agents still.
   */
  @Test
  void spendingItsGossipOnMembersItCannotReachGotItDeclaredDead() {
    boolean deadSomewhere = false;
    for (long seed = 1; seed <= 5; seed++) {
      TestMesh mesh = mesh(false, seed);
      mesh.runUntil(180_000);
      for (TestMesh.Node n : mesh.others(mesh.node(1))) {
        deadSomewhere |= everDeclaredDead(n, mesh.node(1));
      }
    }
    assertTrue(deadSomewhere, "the VPN laptop was declared dead in at least one run");
  }
}
