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
      assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, pushPull));
    }
    assertEquals(MeshFrameGate.Verdict.DROP, gate.admit(rogue, pushPull), "a third push-pull waiting is dropped before it is queued");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit("honest", pushPull), "other links are not affected");
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, ping), "its pings still pass, within their own bound");
    gate.done(rogue, pushPull);
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(rogue, pushPull), "one handled: room for one more");
    assertEquals(1, gate.dropped.get());
  }

  @Test
  void aLinkThatKeepsOverflowingIsChargedOncePerHundredDrops() {
    Object rogue = "rogue";
    gate.admit(rogue, pushPull);
    gate.admit(rogue, pushPull);
    int charges = 0;
    for (int i = 0; i < 3 * MeshFrameGate.DROPS_PER_STRIKE; i++) {
      if (gate.admit(rogue, pushPull) == MeshFrameGate.Verdict.DROP_AND_CHARGE) {
        charges++;
      }
    }
    assertEquals(3, charges, "three strikes: banned, its link closed");
  }

  @Test
  void membershipFramesOfOneLinkAreBoundedAndOtherFramesAreNotGated() {
    Object link = "link";
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, ping));
    }
    assertEquals(MeshFrameGate.Verdict.DROP, gate.admit(link, ping));
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, request), "swarm frames have their own guards");
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      gate.done(link, ping);
    }
    assertEquals(MeshFrameGate.Verdict.QUEUE, gate.admit(link, ping), "all handled: the link starts over");
  }
}
