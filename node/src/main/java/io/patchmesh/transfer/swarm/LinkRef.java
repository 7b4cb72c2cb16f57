package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.PeerClass;
import java.util.Set;

/**
 * One link to a peer, as the swarm's decisions see it: a value, not a socket. {@code linkEpoch}
 * tells two links to the same peer apart (both sides dialled at once, or a redial after a drop):
 * what the swarm knows about a peer belongs to the link it learnt it on, and a late event of a
 * replaced link must not undo what arrived over the newer one (cc9c440). The driver hands out a new
 * epoch, increasing, for every link that comes up.
 */
public record LinkRef(NodeId peer, long linkEpoch, String site, Set<Role> roles) {
  public LinkRef {
    roles = Set.copyOf(roles);
  }

  public boolean isSeed() {
    return roles.contains(Role.ROLE_SEED);
  }

  /** LAN or WAN from a node of {@code ownSite}: see {@link PeerClass#of}. */
  public PeerClass peerClass(String ownSite) {
    return PeerClass.of(ownSite, site);
  }

  public boolean isLan(String ownSite) {
    return peerClass(ownSite) == PeerClass.LAN;
  }
}
