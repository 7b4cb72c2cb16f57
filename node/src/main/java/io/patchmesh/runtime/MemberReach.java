package io.patchmesh.runtime;

import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.net.LocalPolicy;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerAddress;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Role;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Whom membership can reach (issue 17): a member we hold a link to, or one our laptop policy
 * lets us dial at one of its addresses. A laptop on a VPN interface dials no agent and refuses
 * their links, so it reaches the seeds alone: its probes, gossip and push-pull go to them
 * ({@link io.patchmesh.mesh.MembershipBuilder#reachable}), and a seed tells it at once when
 * another node suspects it ({@link io.patchmesh.mesh.MembershipBuilder#linked}). Without a
 * laptop policy (seeds, servers) every member counts as reachable but one whose laptop policy
 * refused our link lately (typed: its Goodbye's {@code laptop_policy}, held 5 min or until a link
 * comes up; {@link Transport#refusedByPeerPolicy}): the agents no longer probe the VPN laptop in
 * vain. Thread-safe; asked on the node loop.
 */
final class MemberReach implements Predicate<MemberInfo> {
  private final Transport transport;
  private final LocalPolicy policy;

  /** @param policy the laptop policy, or null (none: everybody is reachable) */
  MemberReach(Transport transport, LocalPolicy policy) {
    this.transport = transport;
    this.policy = policy;
  }

  /** Whether a link to {@code peer} is up now. */
  boolean linked(NodeId peer) {
    return transport.link(peer).isPresent();
  }

  /**
   * Whether we peer with seeds alone over our link to {@code peer}, a seed: our laptop policy
   * would refuse an agent's link over the interface it goes by (a VPN). Told the seed in our
   * push-pulls, so it pushes us each new manifest it announces
   * ({@link io.patchmesh.mesh.MembershipBuilder#peersWithSeedsOnly}).
   */
  boolean seedsOnlyTowards(NodeId peer) {
    if (policy == null) {
      return false;
    }
    return transport.link(peer)
        .filter(l -> l.roles().contains(Role.ROLE_SEED))
        .map(l -> policy.refuseLink(l.localAddress(), AGENT) != null)
        .orElse(false);
  }

  private static final Set<Role> AGENT = Set.of(Role.ROLE_AGENT);

  @Override
  public boolean test(MemberInfo member) {
    if (linked(member.id())) {
      return true;
    }
    if (transport.refusedByPeerPolicy(member.id())) {
      return false; // its laptop policy refused our link lately: probing it only makes it refute
    }
    if (policy == null) {
      return true;
    }
    for (String address : member.addresses()) {
      InetSocketAddress a;
      try {
        a = PeerAddress.parse(address);
      } catch (IllegalArgumentException e) {
        continue; // never dialled (MeshDriver skips it too)
      }
      if (policy.refuseDial(a) == null) {
        return true;
      }
    }
    return false;
  }
}
