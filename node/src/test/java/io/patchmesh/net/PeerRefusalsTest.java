package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A typed refusal is believed until a link comes up or the hold ends; the memory is bounded. */
class PeerRefusalsTest {
  private static NodeId id(int i) {
    byte[] b = new byte[NodeId.LENGTH];
    b[0] = (byte) i;
    b[1] = (byte) (i >> 8);
    return NodeId.of(b);
  }

  @Test
  void aRefusalHoldsUntilALinkComesUpOrTheHoldEnds() {
    PeerRefusals r = new PeerRefusals();
    r.refused(id(1), 1_000);
    r.refused(id(2), 1_000);
    assertTrue(r.refuses(id(1), 1_000 + PeerRefusals.HOLD_MILLIS - 1));
    r.linked(id(1));
    assertFalse(r.refuses(id(1), 2_000), "a link came up since");
    assertFalse(r.refuses(id(2), 1_000 + PeerRefusals.HOLD_MILLIS), "the laptop may have left the VPN");
    assertFalse(r.refuses(id(3), 1_000));
  }

  @Test
  void theMemoryIsBoundedOldestFirst() {
    PeerRefusals r = new PeerRefusals();
    for (int i = 0; i < PeerRefusals.MAX + 100; i++) {
      r.refused(id(i), i);
    }
    assertEquals(PeerRefusals.MAX, r.size());
    assertFalse(r.refuses(id(0), PeerRefusals.MAX), "the oldest went first");
    assertTrue(r.refuses(id(PeerRefusals.MAX + 99), PeerRefusals.MAX + 100));
  }
}
