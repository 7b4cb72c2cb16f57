package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import io.patchmesh.proto.Request;
import org.junit.jupiter.api.Test;

class MeshFrameGateTest {
  private final MeshFrameGate gate = new MeshFrameGate();
  private final Frame pushPull = Frame.newBuilder().setPushPull(PushPull.newBuilder()).build();
  private final Frame ping = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(1)).build();
  private final Frame request = Frame.newBuilder().setRequest(Request.newBuilder()).build();

  @Test
  void aFloodOfPushPullsFromOneLinkWaitsForTheLoopWithinItsBound() {
    Object rogue = "rogue";
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED_PUSH_PULLS; i++) {
      assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, pushPull, 0));
    }
    assertEquals(MeshFrameGate.Verdict.DROP, gate.admit(rogue, pushPull, 0), "a third push-pull waiting is dropped before it is queued");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit("honest", pushPull, 0), "other links are not affected");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, ping, 0), "its pings still pass, within their own bound");
    gate.done(rogue, pushPull);
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, pushPull, 0), "one handled: room for one more");
    assertEquals(1, gate.dropped.get());
  }

  @Test
  void aLinkThatKeepsOverflowingIsChargedOncePerDropsPerStrike() {
    Object rogue = "rogue";
    gate.admit(rogue, pushPull, 0);
    gate.admit(rogue, pushPull, 0);
    int charges = 0;
    for (int i = 0; i < 3 * MeshFrameGate.DROPS_PER_STRIKE; i++) {
      if (gate.admit(rogue, pushPull, 0) == MeshFrameGate.Verdict.DROP_AND_CHARGE) {
        charges++;
      }
    }
    assertEquals(3, charges, "three strikes: banned, its link closed");
  }

  @Test
  void aLinkGetsABurstOfPushPullsThenOneEveryPeriodHandled() {
    Object rogue = "rogue";
    long t = 1_000;
    int queued = 0;
    for (int i = 0; i < 50; i++) { // 50 push-pulls within a second, each handled at once
      if (gate.admit(rogue, pushPull, t + i * 20) == MeshFrameGate.Verdict.QUEUE) {
        queued++;
        gate.done(rogue, pushPull);
      }
    }
    assertEquals(MeshFrameGate.PUSH_PULL_BURST, queued, "a burst, then nothing until a token refills");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, pushPull, t + 1_000 + MeshFrameGate.PUSH_PULL_PERIOD_MILLIS),
        "one more a period later");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit("honest", pushPull, t), "other links are not affected");
    gate.forget(rogue);
    gate.forget("honest");
    assertEquals(0, gate.size(), "a link's state goes with the link");
  }

  @Test
  void anHonestPeersPushPullsEveryThirtySecondsAreNeverDropped() {
    for (long t = 0; t < 3_600_000; t += 15_000) { // a request and a reply per 30 s interval
      assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit("peer", pushPull, t));
      gate.done("peer", pushPull);
    }
    assertEquals(0, gate.dropped.get());
  }

  @Test
  void membershipFramesOfOneLinkAreBoundedAndOtherFramesAreNotGated() {
    Object link = "link";
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, ping, 0));
    }
    assertEquals(MeshFrameGate.Verdict.DROP, gate.admit(link, ping, 0));
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, request, 0), "swarm frames have their own guards");
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      gate.done(link, ping);
    }
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, ping, 0), "all handled: the link starts over");
  }
}
