package io.patchmesh.runtime;

import io.patchmesh.net.PeerLink;
import io.patchmesh.transfer.swarm.LinkRef;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The {@link LinkRef} of each link that is up: the swarm's state is keyed by these values, never by
 * the {@link PeerLink} object. Each link gets the next epoch the first time it is seen. Touched
 * only on the node loop.
 */
final class LinkRefs {
  private final Map<PeerLink, LinkRef> refs = new IdentityHashMap<>();
  private final Map<LinkRef, PeerLink> links = new HashMap<>();
  private long nextEpoch = 1;

  /**
   * The link's ref. A link already closed and forgotten (a frame queued behind its close) gets a
   * fresh ref that is not kept: it matches nothing the swarm holds, which is what a dead link's
   * late frames should do.
   */
  LinkRef ref(PeerLink link) {
    LinkRef r = refs.get(link);
    if (r != null) {
      return r;
    }
    r = new LinkRef(link.peerId(), nextEpoch++, link.site(), link.roles());
    if (link.isOpen()) {
      refs.put(link, r);
      links.put(r, link);
    }
    return r;
  }

  /** The link went down: its ref is no longer handed out. */
  void forget(PeerLink link) {
    LinkRef r = refs.remove(link);
    if (r != null) {
      links.remove(r);
    }
  }

  /** Each open link the swarm has a ref for, with its ref (no copy of the table). */
  void forEachOpen(java.util.function.BiConsumer<PeerLink, LinkRef> each) {
    refs.forEach((link, ref) -> {
      if (link.isOpen()) {
        each.accept(link, ref);
      }
    });
  }

  /** The link a ref names, if it is up and known; null otherwise. */
  PeerLink link(LinkRef ref) {
    return links.get(ref);
  }
}
