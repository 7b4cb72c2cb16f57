package io.patchmesh.transfer;

/**
 * How a connected peer relates to this node's WAN link. The one definition of locality in the
 * swarm ({@link #of}): it is a property of the network path, not of the peer's role.
 *
 * <ul>
 *   <li>{@link #LAN}: a peer of my own site, whatever its role. Its chunks cost no WAN bytes; an
 *       agent's have-map counts toward the site's view of which chunks are already "inside". A seed
 *       in my own site is LAN too: its bytes cross no WAN link, so nothing is gained by rationing
 *       them (before this rule was written down, such a seed was LAN to the picker but WAN to the
 *       request pump, the delta planner and the silent-link watch).
 *   <li>{@link #WAN}: anything across the site's link — an agent of another site or a seed
 *       elsewhere (a seed simply sends a complete have-map). Fetching from it spends the site's
 *       scarce WAN link, so only the rendezvous owner of a chunk does it (see {@link SiteEconomy}).
 * </ul>
 *
 * Being a seed is a role, used apart from locality: seeds get no Haves, their link ends another
 * site's agents' reserve, and they are never counted as site members that want a manifest.
 */
public enum PeerClass {
  LAN,
  WAN;

  /** LAN if the peer is in our own site (same site name), else WAN. */
  public static PeerClass of(String ownSite, String peerSite) {
    return ownSite.equals(peerSite) ? LAN : WAN;
  }
}
