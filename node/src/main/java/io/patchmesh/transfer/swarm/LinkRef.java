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

  /**
   * Peer and link epoch only (they name the link; equal refs still hash alike), and written out: a
   * record's generated hashCode and equals go through {@code Objects.hashCode} / {@code equals},
   * whose type profile every record's components share, so C2 code that hashed a LinkRef, an
   * {@code Upload} or an upload key trapped and was compiled again when another record type came
   * by (the serving path in a warm rollout, docs/BENCHMARKS.md 13s); and this one hashed the
   * roles set each time, per control frame sent.
   */
  @Override
  public int hashCode() {
    return 31 * (peer == null ? 0 : peer.hashCode()) + Long.hashCode(linkEpoch);
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof LinkRef r && linkEpoch == r.linkEpoch && (peer == null ? r.peer == null : peer.equals(r.peer))
            && (site == null ? r.site == null : site.equals(r.site)) && roles.equals(r.roles);
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
