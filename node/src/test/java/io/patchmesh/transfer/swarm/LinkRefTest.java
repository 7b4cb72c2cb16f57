package io.patchmesh.transfer.swarm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.trust.ManifestId;
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

  @Test
  void equalRefsHashAlikeAndAnyDifferentPartMakesThemUnequal() {
    LinkRef a = new LinkRef(node("p"), 1, "s1", Set.of(Role.ROLE_AGENT));
    LinkRef same = new LinkRef(node("p"), 1, "s1", Set.of(Role.ROLE_AGENT));
    assertEquals(a, same);
    assertEquals(a.hashCode(), same.hashCode());
    assertNotEquals(a, new LinkRef(node("q"), 1, "s1", Set.of(Role.ROLE_AGENT)));
    assertNotEquals(a, new LinkRef(node("p"), 1, "s2", Set.of(Role.ROLE_AGENT)));
    assertNotEquals(a, new LinkRef(node("p"), 1, "s1", Set.of(Role.ROLE_SEED)));
    assertNotEquals(a, new LinkRef(node("p"), 1, null, Set.of(Role.ROLE_AGENT)));
    assertEquals(new LinkRef(null, 1, null, Set.of()), new LinkRef(null, 1, null, Set.of()));
    assertEquals(new LinkRef(null, 1, null, Set.of()).hashCode(), new LinkRef(null, 1, null, Set.of()).hashCode());
    assertNotEquals(a, "p");
  }

  @Test
  void uploadsAreEqualByManifestAndIndex() {
    ManifestId m = ManifestId.ofManifestBytes(new byte[] {1});
    SwarmAction.Upload u = new SwarmAction.Upload(m, 7);
    SwarmAction.Upload same = new SwarmAction.Upload(ManifestId.ofManifestBytes(new byte[] {1}), 7);
    assertEquals(u, same);
    assertEquals(u.hashCode(), same.hashCode());
    assertNotEquals(u, new SwarmAction.Upload(m, 8));
    assertNotEquals(u, new SwarmAction.Upload(ManifestId.ofManifestBytes(new byte[] {2}), 7));
    assertNotEquals(u, new SwarmAction.Upload(null, 7));
    assertEquals(new SwarmAction.Upload(null, 7), new SwarmAction.Upload(null, 7));
  }
}
