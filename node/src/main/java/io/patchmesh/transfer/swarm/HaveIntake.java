package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Reject;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.RequestGuard;

/**
 * What peers tell the fetching core about the chunks they hold: have-maps (a peer shares the
 * manifest: it joins the session, and it may be held in reserve), Haves (one chunk more), and
 * Rejects (a request refused; "not-have" for a chunk it claimed is a false claim). Every index is
 * checked against the manifest before the picker hears of it. Part of {@link Fetching}.
 */
final class HaveIntake {
  private final Fetching core;
  private final String site;
  private final Serving.Links links;
  private final SourceRules sources;
  private final Outbox out;

  HaveIntake(Fetching core, String site, Serving.Links links, SourceRules sources, Outbox out) {
    this.core = core;
    this.site = site;
    this.links = links;
    this.sources = sources;
    this.out = out;
  }

  void onHaveMap(LinkRef link, io.patchmesh.proto.HaveMap proto, long now) {
    ManifestSession s = core.sessionFor(link, proto.getManifestId(), now);
    if (s == null) {
      return; // we do not hold it (yet); when we do, we offer ours
    }
    HaveMap theirs;
    try {
      theirs = HaveMap.fromProto(proto, s.id, s.table.count());
    } catch (HaveMapException e) {
      core.offense(link, RequestGuard.Offense.MALFORMED, "bad have-map: " + e.getMessage(), now);
      return;
    }
    NodeId peer = link.peer();
    ManifestSession.Peer p = s.peers.get(peer);
    if (p != null && !p.ref.equals(link)) {
      // Its have-map over a newer link, the one we knew it by replaced: start over on this one.
      s.peers.remove(peer);
      if (s.picker != null && p.state.knownToPicker()) {
        s.picker.onPeerGone(peer, now);
      }
      p = null;
    }
    boolean first = p == null;
    if (first) {
      p = new ManifestSession.Peer(link, site);
      s.peers.put(peer, p);
      if (p.lan && !p.seed) {
        s.interested.add(peer);
      }
      if (p.lan && !p.seed && proto.getServingOnly()) {
        s.servingOnly.add(peer); // not targeted: a source, never a share owner
      }
      if (!p.lan && !p.seed && sources.hasSeed(s)) {
        p.state = p.state.on(SourceState.Event.SEED_SERVES);
      }
      if (s.picker != null && p.state.knownToPicker()) {
        s.picker.onPeerConnected(peer, link.peerClass(site), now);
      }
      core.offer(s, link, now); // answer once per new peer: it may have ignored ours before it held the manifest
    }
    p.have = theirs;
    if (s.picker != null && p.state.knownToPicker()) {
      try {
        out.cancel(s, s.picker.onHaveMap(peer, theirs, now));
      } catch (HaveMapException e) {
        core.offense(link, RequestGuard.Offense.MALFORMED, e.getMessage(), now);
        return;
      }
      if (first && p.lan && !p.seed) {
        core.updateSiteMembers(s, now);
      }
      core.pumpSoon(s);
    }
  }

  void onHave(LinkRef link, Have have, long now) {
    core.counts().haveIn(have.getChunkIndexCount());
    ManifestSession s = core.sessionFor(link, have.getManifestId(), now);
    if (s == null) {
      return;
    }
    ManifestSession.Peer p = s.peers.get(link.peer());
    if (p == null || have.getChunkIndexCount() > s.table.count()) {
      return;
    }
    for (int i = 0, n = have.getChunkIndexCount(); i < n; i++) {
      int idx = have.getChunkIndex(i); // not the boxing list
      if (idx < 0 || idx >= s.table.count()) {
        core.offense(link, RequestGuard.Offense.MALFORMED, "Have for chunk " + idx + " outside the manifest", now);
        return;
      }
      if (p.have == null) {
        p.have = new HaveMap(s.table.count());
      }
      p.have.set(idx);
      if (s.picker != null && p.state.knownToPicker()) {
        try {
          out.cancel(s, s.picker.onHave(link.peer(), idx, now));
        } catch (HaveMapException e) {
          core.offense(link, RequestGuard.Offense.MALFORMED, e.getMessage(), now);
          return;
        }
      }
    }
    if (s.picker != null) {
      core.pumpSoon(s, link.peer());
    }
  }

  void onReject(LinkRef link, Reject r, long now) {
    ManifestSession s = core.sessionFor(link, r.getManifestId(), now);
    if (s == null || s.picker == null) {
      return;
    }
    if (Serving.UPLOADS_OFF.equals(r.getReason())) {
      s.picker.onUploadsOff(link.peer(), now); // a policy, not an offence: it is just no source now
      core.pumpSoon(s);
      return;
    }
    if ("not-have".equals(r.getReason()) && s.picker.claims(link.peer(), r.getChunkIndex())) {
      // Honest peers announce only what they hold and never lose it mid-session; a peer that
      // advertises a chunk and then refuses it as not held lures requests away from real sources.
      core.offense(link, RequestGuard.Offense.FALSE_CLAIM, "rejected chunk " + r.getChunkIndex() + " it claimed to have", now);
      if (!links.isOpen(link)) {
        return;
      }
    }
    s.picker.onReject(link.peer(), r.getChunkIndex(), now);
    core.pumpSoon(s);
  }
}
