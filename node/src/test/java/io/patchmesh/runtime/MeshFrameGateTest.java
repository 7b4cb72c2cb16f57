package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
      assertTrue(gate.admit(rogue, pushPull));
    }
    assertFalse(gate.admit(rogue, pushPull), "a third push-pull waiting is dropped before it is queued");
    assertTrue(gate.admit("honest", pushPull), "other links are not affected");
    assertTrue(gate.admit(rogue, ping), "its pings still pass, within their own bound");
    gate.done(rogue, pushPull);
    assertTrue(gate.admit(rogue, pushPull), "one handled: room for one more");
    assertEquals(1, gate.dropped.get());
  }

  @Test
  void membershipFramesOfOneLinkAreBoundedAndOtherFramesAreNotGated() {
    Object link = "link";
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      assertTrue(gate.admit(link, ping));
    }
    assertFalse(gate.admit(link, ping));
    assertTrue(gate.admit(link, request), "swarm frames have their own guards");
    for (int i = 0; i < MeshFrameGate.MAX_QUEUED; i++) {
      gate.done(link, ping);
    }
    assertTrue(gate.admit(link, ping), "all handled: the link starts over");
  }
}
