package io.patchmesh.runtime;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Role;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.patchmesh.transfer.Rendezvous;

/**
 * Where in our site a manifest can come from without crossing the WAN: which sources are site-mates,
 * which site-mates showed (by a have-map) that they hold a manifest we have not heard announced
 * yet, and our rank among the linked site members for fetching a manifest across the WAN. Members
 * are ranked by rendezvous on the manifest id: the first fetches at once, the n-th after n
 * {@link #SITE_WAIT_MILLIS} unless a site-mate showed it holds the manifest; so a site's link
 * carries a manifest about once instead of once per member (4096 chunk refs are ~170 KB). Loop only.
 */
final class ManifestSiteSources {
  /** How long, per rank, a site member waits for a site-mate to hold a manifest before fetching it itself. */
  static final long SITE_WAIT_MILLIS = 3_000;
  /** Ids remembered as held by site-mates, and site-mates per id. */
  static final int HOLDER_IDS = 64;
  static final int HOLDERS_PER_ID = 8;

  private final Transport transport;
  /** Manifests we do not hold that site-mates showed (have-maps) they hold: id -> those peers. */
  private final Map<ManifestId, List<NodeId>> holders =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ManifestId, List<NodeId>> e) {
          return size() > HOLDER_IDS;
        }
      };

  ManifestSiteSources(Transport transport) {
    this.transport = transport;
  }

  /** A source in our site that is not a seed: its bytes do not cross our WAN link. */
  boolean near(NodeId peer) {
    Optional<PeerLink> link = transport.link(peer);
    return link.isPresent()
        && link.get().site().equals(transport.site())
        && !link.get().roles().contains(Role.ROLE_SEED);
  }

  /** Remembers that site-mate {@code peer} holds {@code id} (bounded), for when we hear of it. */
  void holds(ManifestId id, NodeId peer) {
    List<NodeId> hs = holders.computeIfAbsent(id, k -> new ArrayList<>());
    if (!hs.contains(peer) && hs.size() < HOLDERS_PER_ID) {
      hs.add(peer);
    }
  }

  /** The site-mates remembered as holding {@code id}, forgotten here. */
  List<NodeId> take(ManifestId id) {
    List<NodeId> hs = holders.remove(id);
    return hs == null ? List.of() : hs;
  }

  /** This node's rank among the linked site members for fetching {@code id} across the WAN (0 = first). */
  int rank(ManifestId id) {
    List<NodeId> members = new ArrayList<>();
    members.add(transport.localId());
    for (PeerLink l : transport.links()) {
      if (l.isOpen() && near(l.peerId()) && !members.contains(l.peerId())) {
        members.add(l.peerId());
      }
    }
    return members.size() == 1 ? 0 : Rendezvous.rank(ChunkId.of(id.toByteString()), members).indexOf(transport.localId());
  }
}
