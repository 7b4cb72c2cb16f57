package io.patchmesh.transfer;

/**
 * How a connected peer relates to this node's WAN link.
 *
 * <ul>
 *   <li>{@link #LAN}: an agent of my own site. Its chunks cost no WAN bytes; its have-map counts
 *       toward the site's view of which chunks are already "inside".
 *   <li>{@link #WAN}: anything across the site's link — an agent of another site or a seed (a seed
 *       simply sends a complete have-map). Fetching from it spends the site's scarce WAN link, so
 *       only the rendezvous owner of a chunk does it (see {@link SiteEconomy}).
 * </ul>
 */
public enum PeerClass {
  LAN,
  WAN
}
