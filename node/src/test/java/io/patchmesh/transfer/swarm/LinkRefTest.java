package io.patchmesh.transfer.swarm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.PeerClass;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LinkRefTest {
  static NodeId node(String name) {
    return NodeId.ofPublicKey(name.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void twoLinksToOnePeerAreTwoRefs() {
    LinkRef a = new LinkRef(node("p"), 1, "s1", Set.of(Role.ROLE_AGENT));
    LinkRef b = new LinkRef(node("p"), 2, "s1", Set.of(Role.ROLE_AGENT));
    assertNotEquals(a, b);
    assertEquals(a, new LinkRef(node("p"), 1, "s1", Set.of(Role.ROLE_AGENT)));
  }

  @Test
  void aSeedInOurOwnSiteIsLanAndStillASeed() {
    LinkRef seed = new LinkRef(node("seed"), 1, "s1", Set.of(Role.ROLE_SEED));
    assertTrue(seed.isSeed());
    assertEquals(PeerClass.LAN, seed.peerClass("s1"));
    assertEquals(PeerClass.WAN, seed.peerClass("s2"));
  }

  @Test
  void localityIsTheSiteAloneWhateverTheRole() {
    for (Role r : new Role[] {Role.ROLE_AGENT, Role.ROLE_SEED}) {
      assertTrue(new LinkRef(node("x"), 1, "a", Set.of(r)).isLan("a"));
      assertFalse(new LinkRef(node("x"), 1, "b", Set.of(r)).isLan("a"));
    }
  }
}
