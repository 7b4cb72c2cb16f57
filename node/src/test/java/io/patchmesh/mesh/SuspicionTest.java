package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import org.junit.jupiter.api.Test;

class SuspicionTest {
  private static NodeId id(int b) {
    byte[] bytes = new byte[NodeId.LENGTH];
    bytes[0] = (byte) b;
    return NodeId.of(bytes);
  }

  @Test
  void timeoutStartsAtMaxAndShrinksToMinWithIndependentConfirmations() {
    Suspicion s = new Suspicion(id(1), 3, 1_000, 6_000, 10_000);
    assertEquals(16_000, s.deadlineMillis());

    assertFalse(s.confirm(id(1)), "the first accuser does not confirm itself");
    assertTrue(s.confirm(id(2)));
    // log(2)/log(4) = 0.5 of the way from max to min
    assertEquals(10_000 + 3_500, s.deadlineMillis());
    assertFalse(s.confirm(id(2)), "one confirmation per member");
    assertTrue(s.confirm(id(3)));
    assertTrue(s.deadlineMillis() < 13_500 && s.deadlineMillis() > 11_000);
    assertTrue(s.confirm(id(4)));
    assertEquals(11_000, s.deadlineMillis(), "k confirmations reach the minimum");
    assertFalse(s.confirm(id(5)), "nothing left to shorten");
  }

  @Test
  void tinyClusterWithoutConfirmersUsesMinimum() {
    Suspicion s = new Suspicion(id(1), 0, 2_000, 12_000, 0);
    assertEquals(2_000, s.deadlineMillis());
  }

  @Test
  void membershipShortensSuspicionAsConfirmationsArrive() {
    TestMesh mesh = TestMesh.ofRoster(8, MembershipConfig.lan(), 9);
    mesh.runUntil(1_000);
    TestMesh.Node hearer = mesh.node(0);
    TestMesh.Node accused = mesh.node(1);
    accused.down = true; // it cannot refute
    long start = mesh.now;
    for (int accuser = 2; accuser <= 4; accuser++) {
      accuse(mesh, hearer, mesh.node(accuser), accused);
    }
    MemberRecord r = findRecord(hearer, accused);
    int n = hearer.membership.clusterSize();
    long min = MembershipConfig.lan().suspicionMinMillis(n);
    assertEquals(2, r.suspicion.confirmations());
    assertEquals(start + min, r.suspicion.deadlineMillis(), "lan's k = 2 confirmations");
  }

  /**
   * Agents ({@code lanAgent}) count confirmations as {@code lan} does: one accuser's word starts the
   * timer at its maximum, and two more independent accusers bring it to the minimum (k was
   * suspicionMult − 2 = 0 for agents until 2026-12-05: the minimum at once).
   */
  @Test
  void anAgentsSuspicionOnOneWordStartsAtTheMaximumAndTwoConfirmationsBringTheMinimum() {
    MembershipConfig agent = MembershipConfig.lanAgent();
    TestMesh mesh = TestMesh.ofRoster(8, agent, 9);
    mesh.runUntil(2_000);
    TestMesh.Node hearer = mesh.node(0);
    TestMesh.Node accused = mesh.node(1);
    accused.down = true;
    long start = mesh.now;
    int n = hearer.membership.clusterSize();
    for (int accuser = 2; accuser <= 4; accuser++) {
      accuse(mesh, hearer, mesh.node(accuser), accused);
      MemberRecord r = findRecord(hearer, accused);
      if (accuser == 2) {
        assertEquals(start + agent.suspicionMaxMillis(n), r.suspicion.deadlineMillis(), "one accuser: the maximum");
      }
    }
    MemberRecord r = findRecord(hearer, accused);
    assertEquals(2, r.suspicion.confirmations());
    assertEquals(start + agent.suspicionMinMillis(n), r.suspicion.deadlineMillis(), "k = 2: the minimum");
  }

  /** {@code accuser} tells {@code hearer}, in a ping, that {@code accused} is suspect. */
  private static void accuse(TestMesh mesh, TestMesh.Node hearer, TestMesh.Node accuser, TestMesh.Node accused) {
    hearer.membership.onFrame(mesh.now, accuser.id(), io.patchmesh.proto.Frame.newBuilder()
        .setPing(io.patchmesh.proto.Ping.newBuilder().setSeq(0).addUpdates(
            accused.info.toWire(0, MemberStatus.SUSPECT).setFrom(accuser.id().toByteString())))
        .build());
  }

  private static MemberRecord findRecord(TestMesh.Node node, TestMesh.Node of) {
    try {
      var f = Membership.class.getDeclaredField("table");
      f.setAccessible(true);
      return ((MemberTable) f.get(node.membership)).find(of.id());
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
