package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What seeds say they see us coming from: only seeds, only address literals, bounded, the majority wins. */
class ObservedAddressesTest {
  static NodeId id(int n) {
    byte[] b = new byte[NodeId.LENGTH];
    b[0] = (byte) n;
    b[1] = (byte) (n >> 8);
    return NodeId.of(com.google.protobuf.ByteString.copyFrom(b));
  }

  @Test
  void onlySeedsAreBelievedAndOnlyAddressLiterals() {
    ObservedAddresses o = new ObservedAddresses();
    assertFalse(o.offer(id(1), Set.of(Role.ROLE_AGENT), "203.0.113.7"), "an agent's word does not count");
    assertEquals("", o.current());
    assertFalse(o.offer(id(2), Set.of(Role.ROLE_SEED), "seed.example.org"), "no host names: nothing may cause a lookup");
    assertFalse(o.offer(id(2), Set.of(Role.ROLE_SEED), "999.1.1.1"));
    assertFalse(o.offer(id(2), Set.of(Role.ROLE_SEED), "1:2"), "not an IPv6 literal");
    assertFalse(o.offer(id(2), Set.of(Role.ROLE_SEED), "a".repeat(1000)));
    assertFalse(o.offer(id(2), Set.of(Role.ROLE_SEED), ""));
    assertTrue(o.offer(id(2), Set.of(Role.ROLE_SEED), "203.0.113.7"));
    assertEquals("203.0.113.7", o.current());
    assertTrue(o.offer(id(3), Set.of(Role.ROLE_SEED), "2001:DB8::7"));
    assertEquals("2001:db8::7", o.current(), "a tie: the smallest text");
    assertTrue(o.offer(id(4), Set.of(Role.ROLE_SEED), "203.0.113.7"));
    assertEquals("203.0.113.7", o.current(), "most seeds agree");
  }

  @Test
  void atMostSixteenSeedsAreRemembered() {
    ObservedAddresses o = new ObservedAddresses();
    o.offer(id(0), Set.of(Role.ROLE_SEED), "198.51.100.1");
    o.offer(id(1), Set.of(Role.ROLE_SEED), "198.51.100.1");
    for (int i = 2; i < 2 + ObservedAddresses.MAX_SEEDS; i++) {
      o.offer(id(i), Set.of(Role.ROLE_SEED), "203.0.113." + (i % 3 == 0 ? 1 : i));
    }
    assertEquals("203.0.113.1", o.current(), "the two heard first are forgotten");
  }
}
