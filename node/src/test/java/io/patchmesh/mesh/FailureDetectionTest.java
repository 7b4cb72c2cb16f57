package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import java.util.List;
import org.junit.jupiter.api.Test;

class FailureDetectionTest {
  private static final MembershipConfig LAN = MembershipConfig.lan();

  @Test
  void probesAndAcksKeepEveryMemberAlive() {
    TestMesh mesh = TestMesh.ofRoster(6, LAN, 1);
    mesh.runUntil(60_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertEquals(List.of(), n.memberEvents(), "no state changes at " + n.id().shortHex());
      assertTrue(n.membership.members().stream().allMatch(m -> m.status() == MemberStatus.ALIVE));
      assertEquals(0, n.membership.localHealth());
    }
  }

  /**
   * Bound: a member is probed by everyone within two probe rounds ((N−1) intervals each, the
   * round-robin order is reshuffled between rounds), then dead after at most the maximum
   * suspicion timeout, plus a second for gossip.
   */
  @Test
  void silentMemberGoesSuspectThenDeadWithinBound() {
    silentMemberGoesSuspectThenDeadWithinBound(LAN);
  }

  /** The agents' preset: the same bound in its own (2 s) probe intervals. */
  @Test
  void silentMemberGoesSuspectThenDeadWithinBoundWithTheAgentPreset() {
    silentMemberGoesSuspectThenDeadWithinBound(MembershipConfig.lanAgent());
  }

  private static void silentMemberGoesSuspectThenDeadWithinBound(MembershipConfig preset) {
    int n = 6;
    MembershipConfig config = preset.withDeadReclaimMillis(600_000); // keep the dead in view
    TestMesh mesh = TestMesh.ofRoster(n, config, 2);
    mesh.runUntil(5_000);
    TestMesh.Node silent = mesh.node(3);
    silent.down = true;
    long killedAt = mesh.now;
    long suspectBound = 2L * (n - 1) * preset.probeIntervalMillis() + preset.probeIntervalMillis();
    long deadBound = suspectBound + preset.suspicionMaxMillis(n) + 1_000;
    mesh.runUntil(killedAt + deadBound);

    for (TestMesh.Node observer : mesh.others(silent)) {
      Member view = observer.viewOf(silent);
      assertNotNull(view);
      assertEquals(MemberStatus.DEAD, view.status(), "at " + observer.id().shortHex());
      List<MemberStatus> states = observer.memberEvents().stream()
          .filter(e -> e.member().info().id().equals(silent.id())).map(MemberEvent::newState).toList();
      assertEquals(MemberStatus.DEAD, states.get(states.size() - 1));
      // Nobody else was accused.
      assertTrue(observer.memberEvents().stream()
          .allMatch(e -> e.member().info().id().equals(silent.id())));
    }
  }

  @Test
  void indirectProbeSavesMemberWhoseDirectPathFails() {
    TestMesh mesh = TestMesh.ofRoster(5, LAN, 3);
    TestMesh.Node a = mesh.node(0);
    TestMesh.Node b = mesh.node(1);
    mesh.drop = (from, to) -> (from == a && to == b) || (from == b && to == a);
    mesh.runUntil(60_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertEquals(List.of(), n.memberEvents(), "nobody suspected at " + n.id().shortHex());
    }
    long relayedPings = mesh.sent.stream()
        .filter(s -> ((Frame) s[2]).hasPing() && !((Frame) s[2]).getPing().getOrigin().isEmpty())
        .count();
    assertTrue(relayedPings > 0, "helpers relayed probes between a and b");
  }

  @Test
  void falselySuspectedMemberRefutesWithHigherIncarnation() {
    TestMesh mesh = TestMesh.ofRoster(5, LAN, 4);
    mesh.runUntil(3_000);
    TestMesh.Node accuser = mesh.node(0);
    TestMesh.Node hearer = mesh.node(1);
    TestMesh.Node accused = mesh.node(2);
    MemberUpdate suspicion = accused.info.toWire(0, MemberStatus.SUSPECT)
        .setFrom(accuser.id().toByteString()).build();
    hearer.membership.onFrame(mesh.now, accuser.id(),
        Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addUpdates(suspicion)).build());
    assertEquals(MemberStatus.SUSPECT, hearer.viewOf(accused).status());
    mesh.drain(hearer);
    mesh.runUntil(10_000);

    assertEquals(1, accused.membership.self().incarnation());
    for (TestMesh.Node n : mesh.others(accused)) {
      assertEquals(MemberStatus.ALIVE, n.viewOf(accused).status());
      assertEquals(1, n.viewOf(accused).incarnation());
      assertTrue(n.memberEvents().stream().noneMatch(e -> e.newState() == MemberStatus.DEAD));
    }
  }

  @Test
  void hearingItselfSuspectedBumpsIncarnationGossipsAliveAndLowersHealth() {
    TestMesh mesh = TestMesh.ofRoster(4, LAN, 4);
    TestMesh.Node accuser = mesh.node(0);
    TestMesh.Node accused = mesh.node(1);
    MemberUpdate suspicion = accused.info.toWire(0, MemberStatus.SUSPECT)
        .setFrom(accuser.id().toByteString()).build();
    accused.membership.onFrame(0, accuser.id(),
        Frame.newBuilder().setPing(Ping.newBuilder().setSeq(7).addUpdates(suspicion)).build());
    assertEquals(1, accused.membership.self().incarnation());
    assertEquals(1, accused.membership.localHealth());
    Outbound ack = accused.membership.pollOutbound();
    assertEquals(7, ack.frame().getAck().getSeq());
    assertTrue(ack.frame().getAck().getUpdatesList().stream().anyMatch(u ->
        u.getNodeId().equals(accused.id().toByteString()) && u.getIncarnation() == 1
            && u.getState() == io.patchmesh.proto.MemberState.MEMBER_ALIVE),
        "the refutation rides on the Ack to the accuser");
  }

  @Test
  void brieflyStalledMemberIsNotDeclaredDead() {
    TestMesh mesh = TestMesh.ofRoster(6, LAN, 5);
    mesh.runUntil(5_000);
    TestMesh.Node stalled = mesh.node(4);
    stalled.pausedUntil = mesh.now + 3_000; // a long GC pause: longer than a probe interval
    mesh.runUntil(60_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertTrue(n.memberEvents().stream().noneMatch(e -> e.newState() == MemberStatus.DEAD),
          "no death at " + n.id().shortHex());
      assertTrue(n.membership.members().stream().allMatch(m -> m.status() == MemberStatus.ALIVE));
    }
  }

  @Test
  void lossyNetworkCausesNoFalseDeaths() {
    TestMesh mesh = TestMesh.ofRoster(8, LAN, 6);
    java.util.SplittableRandom loss = new java.util.SplittableRandom(6);
    mesh.drop = (from, to) -> loss.nextDouble() < 0.10;
    mesh.runUntil(120_000);
    for (TestMesh.Node n : mesh.nodes) {
      assertTrue(n.memberEvents().stream().noneMatch(e -> e.newState() == MemberStatus.DEAD));
    }
  }
}
