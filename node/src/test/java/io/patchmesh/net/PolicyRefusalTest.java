package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A link refused by a laptop policy says so in its Goodbye, typed (issue 17): the dialler's link
 * ends {@link PeerLink#refusedByPolicy()}, whatever the reason's wording; a link closed for any
 * other reason does not. Real transports over mutual TLS; the refusing node's policy answers as a
 * laptop on a VPN interface would (no link with anyone but a seed).
 */
class PolicyRefusalTest {
  @TempDir Path dir;
  private MeshFixture mesh;

  /** Links that went down at a listener, with whether a laptop policy refused them. */
  static final class Downs implements LinkListener {
    final List<PeerLink> links = new CopyOnWriteArrayList<>();

    @Override
    public void onFrame(PeerLink link, io.patchmesh.proto.Frame frame) {}

    @Override
    public void onLinkDown(PeerLink link, String reason) {
      links.add(link);
    }
  }

  /** What PolicyWatch answers on a VPN interface: no link with an agent. */
  static final LocalPolicy NO_PEERING = new LocalPolicy() {
    @Override
    public String refuseLink(InetSocketAddress local, Set<Role> peerRoles) {
      return peerRoles.contains(Role.ROLE_SEED) ? null : "no peering over VPN interface tun0 (vpn-interfaces)";
    }
  };

  @BeforeEach
  void setUp() {
    mesh = new MeshFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  @Test
  void theDiallerOfALinkALaptopPolicyRefusesLearnsItTyped() {
    Transport vpn = mesh.tls("vpn", "hotel", null, c -> c.localPolicy(NO_PEERING));
    Downs heardByPeer = new Downs();
    Transport peer = mesh.tls("peer", "hotel", heardByPeer);
    // the dialler's link may come up before the Goodbye arrives (then it goes down, flagged), or
    // the Goodbye may end the setup (then the dial fails): dial until a link came up and went down
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      peer.connect(vpn.boundAddress()).exceptionally(e -> null);
      return !heardByPeer.links.isEmpty();
    });
    for (PeerLink l : heardByPeer.links) {
      assertTrue(l.refusedByPolicy(), "refused by the peer's laptop policy: " + l);
    }
    assertTrue(vpn.links().isEmpty(), "no link stays up at the laptop");
    // the dialler remembers it (membership then leaves the laptop out of whom it probes); the
    // laptop, whose own policy refused, does not take it for the peer's refusal
    await().atMost(Duration.ofSeconds(10)).until(() -> peer.refusedByPeerPolicy(vpn.localId()));
    assertFalse(vpn.refusedByPeerPolicy(peer.localId()));
  }

  @Test
  void aLinkClosedForAnotherReasonIsNotARefusal() throws Exception {
    Downs heardByB = new Downs();
    Transport a = mesh.tls("a", "hotel", null);
    Transport b = mesh.tls("b", "hotel", heardByB);
    PeerLink ab = a.connect(b.boundAddress()).get(10, java.util.concurrent.TimeUnit.SECONDS);
    // worded like a refusal, but not one: the wording decides nothing
    ab.close("laptop policy: lifted, relinking");
    await().atMost(Duration.ofSeconds(10)).until(() -> !heardByB.links.isEmpty());
    assertFalse(heardByB.links.get(0).refusedByPolicy());
    assertFalse(ab.refusedByPolicy());
    assertFalse(a.refusedByPeerPolicy(b.localId()));
    assertFalse(b.refusedByPeerPolicy(a.localId()));
  }

  @Test
  void aSeedsLinkIsNotRefused() throws Exception {
    Transport vpn = mesh.tls("vpn", "hotel", null, c -> c.localPolicy(NO_PEERING));
    Transport seed = mesh.tls("seed", "dc", null, c -> c.roles(Set.of(Role.ROLE_SEED)));
    PeerLink link = seed.connect(vpn.boundAddress()).get(10, java.util.concurrent.TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> vpn.link(seed.localId()).isPresent());
    assertTrue(link.isOpen());
    assertFalse(link.refusedByPolicy());
    assertFalse(seed.refusedByPeerPolicy(vpn.localId()));
  }
}
