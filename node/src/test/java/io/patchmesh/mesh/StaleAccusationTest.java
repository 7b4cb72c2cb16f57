package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberState;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A member that missed a refutation learns it from the accused itself, at its next word about it,
 * instead of declaring it dead before a push-pull (every 30 s, digest first) repairs its view.
 */
class StaleAccusationTest {
  private static final MembershipConfig LAN = MembershipConfig.lan();

  private static Frame push(MemberUpdate u) {
    return Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addUpdates(u)).build();
  }

  private static List<Outbound> outbound(Membership m) {
    List<Outbound> out = new ArrayList<>();
    for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
      out.add(o);
    }
    return out;
  }

  private static boolean carriesAlive(Outbound o, TestMesh.Node about, long incarnation) {
    List<MemberUpdate> updates = o.frame().hasPing() ? o.frame().getPing().getUpdatesList()
        : o.frame().hasAck() ? o.frame().getAck().getUpdatesList() : List.of();
    return updates.stream().anyMatch(u -> u.getNodeId().equals(about.id().toByteString())
        && u.getIncarnation() == incarnation && u.getState() == MemberState.MEMBER_ALIVE
        && !u.getSignature().isEmpty());
  }

  @Test
  void anAccuserThatMissedTheRefutationIsToldDirectlyOncePerHoldOff() {
    TestMesh mesh = TestMesh.ofRoster(4, LAN, 7);
    TestMesh.Node accused = mesh.node(1);
    TestMesh.Node first = mesh.node(0);
    TestMesh.Node stale = mesh.node(2);
    MemberUpdate suspicion = accused.info.toWire(0, MemberStatus.SUSPECT).build();
    accused.membership.onFrame(0, first.id(), push(suspicion));
    assertEquals(1, accused.membership.self().incarnation(), "refuted");
    outbound(accused.membership);

    // `stale` still gossips the suspicion at incarnation 0: it never heard the refutation
    accused.membership.onFrame(10, stale.id(), push(suspicion));
    List<Outbound> told = outbound(accused.membership).stream().filter(o -> o.to().equals(stale.id())).toList();
    assertEquals(1, told.size(), "one push straight to the stale accuser");
    assertTrue(carriesAlive(told.get(0), accused, 1), "with the signed ALIVE at incarnation 1");
    assertEquals(1, accused.membership.self().incarnation(), "an old accusation is not refuted again");

    accused.membership.onFrame(500, stale.id(), push(suspicion));
    assertTrue(outbound(accused.membership).stream().noneMatch(o -> o.to().equals(stale.id())), "once per hold-off");
    accused.membership.onFrame(10 + StaleAccusers.HOLDOFF_MILLIS, stale.id(), push(suspicion));
    assertTrue(outbound(accused.membership).stream().anyMatch(o -> o.to().equals(stale.id()) && carriesAlive(o, accused, 1)));
  }

  @Test
  void aCurrentAccusationIsRefutedAsBeforeWithoutAnExtraPush() {
    TestMesh mesh = TestMesh.ofRoster(4, LAN, 8);
    TestMesh.Node accused = mesh.node(1);
    TestMesh.Node accuser = mesh.node(0);
    accused.membership.onFrame(0, accuser.id(), push(accused.info.toWire(0, MemberStatus.SUSPECT).build()));
    assertEquals(1, accused.membership.self().incarnation());
    assertTrue(outbound(accused.membership).stream().noneMatch(o -> o.to().equals(accuser.id())),
        "a refutation is gossiped, not pushed to the accuser");
  }

  /**
   * The accused stalls, everyone suspects it, it refutes; one member never hears the refutation
   * from a third party (neither gossip nor push-pull reaches it with the news). It must still
   * learn it from the accused within the suspicion timeout: nobody declares the accused dead.
   */
  @Test
  void aMemberThatMissedTheRefutationGossipDoesNotDeclareTheAccusedDead() {
    // runs in which, without the direct answer to a stale accuser, `missed` declared the accused dead
    for (long seed : new long[] {6, 8, 10}) {
      scenario(seed);
    }
  }

  private static void scenario(long seed) {
    int n = 8;
    TestMesh mesh = TestMesh.ofRoster(n, LAN, seed);
    TestMesh.Node accused = mesh.node(3);
    TestMesh.Node missed = mesh.node(0);
    // every word of the refutation that `missed` would hear from a third party is taken out
    mesh.filter = (from, to, frame) -> to == missed && from != accused ? withoutRefutation(frame, accused) : frame;
    mesh.runUntil(5_000);
    accused.pausedUntil = mesh.now + 3_000;
    mesh.runUntil(mesh.now + 3_000 + LAN.suspicionMaxMillis(n) + 5_000);
    for (TestMesh.Node node : mesh.others(accused)) {
      assertTrue(node.memberEvents().stream().noneMatch(e -> e.newState() == MemberStatus.DEAD),
          "no death at " + node.id().shortHex() + (node == missed ? " (the member that missed the refutation)" : ""));
      assertEquals(MemberStatus.ALIVE, node.viewOf(accused).status(), "at " + node.id().shortHex());
    }
    assertTrue(accused.membership.self().incarnation() >= 1, "the accused was suspected and refuted");
  }

  /** {@code frame} without any ALIVE of {@code about} above incarnation 0 (its refutation). */
  private static Frame withoutRefutation(Frame frame, TestMesh.Node about) {
    java.util.function.Predicate<MemberUpdate> keep = u -> !(u.getNodeId().equals(about.id().toByteString())
        && u.getState() == MemberState.MEMBER_ALIVE && u.getIncarnation() > 0);
    if (frame.hasPing()) {
      Ping p = frame.getPing();
      return frame.toBuilder().setPing(p.toBuilder().clearUpdates()
          .addAllUpdates(p.getUpdatesList().stream().filter(keep).toList())).build();
    }
    if (frame.hasAck()) {
      io.patchmesh.proto.Ack a = frame.getAck();
      return frame.toBuilder().setAck(a.toBuilder().clearUpdates()
          .addAllUpdates(a.getUpdatesList().stream().filter(keep).toList())).build();
    }
    if (frame.hasPushPull()) {
      io.patchmesh.proto.PushPull pp = frame.getPushPull();
      return frame.toBuilder().setPushPull(pp.toBuilder().clearMembers()
          .addAllMembers(pp.getMembersList().stream().filter(keep).toList())).build();
    }
    return frame;
  }
}
