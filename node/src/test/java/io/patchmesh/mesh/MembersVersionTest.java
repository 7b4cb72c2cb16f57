package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Membership#membersVersion} stands still while a settled mesh idles (probes, acks and
 * push-pulls change nothing a member list shows) and moves when the list would: a member suspected,
 * dead, joined. The node's status snapshot copies the member list only when it moves.
 */
class MembersVersionTest {
  private static final MembershipConfig LAN = MembershipConfig.lan();

  @Test
  void standsStillWhileIdleAndMovesWithAChange() {
    TestMesh mesh = TestMesh.ofRoster(20, 2, LAN, 41);
    mesh.runUntil(60_000); // start-up news spread and retransmitted
    TestMesh.Node n = mesh.node(0);
    long settled = n.membership.membersVersion();
    List<Member> before = n.membership.members();
    mesh.runUntil(180_000); // two minutes of probes, acks and push-pulls
    assertEquals(settled, n.membership.membersVersion(), "an idle mesh moved the version");
    assertEquals(before, n.membership.members());

    mesh.node(7).down = true;
    long down = mesh.now;
    mesh.runUntil(down + 60_000);
    assertNotEquals(settled, n.membership.membersVersion(), "a dead member did not move the version");
    Member view = n.viewOf(mesh.node(7));
    assertTrue(view == null || view.status() == MemberStatus.DEAD, "dead, or dead and forgotten: " + view);
  }

  @Test
  void movesWhenAMemberJoins() {
    TestMesh mesh = TestMesh.ofRoster(5, LAN, 42);
    TestMesh.Node n = mesh.node(0);
    long v = n.membership.membersVersion();
    MemberInfo newcomer = TestMesh.infos(6, 43).get(5);
    n.membership.onLinkUp(mesh.now, newcomer);
    assertNotEquals(v, n.membership.membersVersion(), "a member learned from its link");
  }
}
