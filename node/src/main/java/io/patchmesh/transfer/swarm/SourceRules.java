package io.patchmesh.transfer.swarm;

import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.PeerClass;
import java.util.ArrayList;
import java.util.List;

/**
 * Which of a session's peers are asked for chunks, applied to the picker: the reserve (other sites'
 * agents held back while a seed serves us) and the {@link WanLinkWatch}'s judgement of silent WAN
 * links. The states and their transitions are {@link SourceState}'s; this class only fires the
 * events and tells the picker. Part of {@link Fetching}.
 */
final class SourceRules {
  private final SwarmConfig cfg;
  private final Serving.Links links;
  private final WanLinkWatch watch;
  private final Outbox out;

  SourceRules(SwarmConfig cfg, Serving.Links links, WanLinkWatch watch, Outbox out) {
    this.cfg = cfg;
    this.links = links;
    this.watch = watch;
    this.out = out;
  }

  boolean hasSeed(ManifestSession s) {
    for (ManifestSession.Peer p : s.peers.values()) {
      if (p.seed && links.isOpen(p.ref)) {
        return true;
      }
    }
    return false;
  }

  /** No seed left: other sites' agents become sources. The caller pumps. */
  void activateReserve(ManifestSession s, long now) {
    for (ManifestSession.Peer p : s.peers.values()) {
      if (!p.reserve()) {
        continue;
      }
      p.state = p.state.on(SourceState.Event.NO_SEED);
      s.picker.onPeerConnected(p.ref.peer(), PeerClass.WAN, now);
      if (p.have != null) {
        try {
          out.cancel(s, s.picker.onHaveMap(p.ref.peer(), p.have, now));
        } catch (HaveMapException e) {
          // validated when it arrived
        }
      }
    }
    out.note(s.vm + ": no seed linked; fetching from other sites' agents");
  }

  /**
   * Other sites' agents that became sources before a seed's have-map arrived join the reserve once
   * nothing is in flight with them: the rule that keeps branch uplinks for their own site should not
   * depend on which have-map came first.
   */
  void reserveCrossSiteAgents(ManifestSession s, long now) {
    if (!hasSeed(s)) {
      return;
    }
    for (ManifestSession.Peer p : s.peers.values()) {
      if (!p.reserve() && !p.seed && !p.lan && s.picker.inFlight(p.ref.peer()) == 0) {
        p.state = p.state.on(SourceState.Event.SEED_SERVES);
        s.picker.onPeerGone(p.ref.peer(), now);
      }
    }
  }

  /**
   * Applies the {@link WanLinkWatch}'s judgement of the session's WAN peers: stops the request
   * clocks of silent ones, moves the requests of abandoned ones elsewhere and benches them, and
   * returns true if every WAN link we wait on is silent (the site's WAN is down, so site members
   * are not stalled either). A link we ask nothing of is not judged: its silence means nothing.
   */
  boolean watchWanLinks(ManifestSession s, long now, long sinceLastTick) {
    List<WanLinkWatch.WanPeer> wan = new ArrayList<>();
    for (ManifestSession.Peer p : s.peers.values()) {
      if (!p.lan) {
        wan.add(new WanLinkWatch.WanPeer(p.ref, p.state, p.benchedAtMillis, s.picker.inFlight(p.ref.peer()) > 0));
      }
    }
    if (wan.isEmpty()) {
      return false;
    }
    WanLinkWatch.Judgement j = watch.judge(wan, now);
    for (LinkRef l : j.excuse()) {
      s.picker.excuseSilence(l.peer(), sinceLastTick);
    }
    j.changes().forEach((l, state) -> {
      ManifestSession.Peer p = s.peers.get(l.peer());
      if (p != null && p.ref.equals(l)) {
        p.state = state;
      }
    });
    for (LinkRef l : j.abandon()) {
      ManifestSession.Peer p = s.peers.get(l.peer());
      List<ChunkRequest> owed = s.picker.abandon(l.peer(), now, cfg.linkAbandonedMillis());
      out.note(s.vm + ": link to " + l.peer().shortHex() + " (" + l.site() + ") silent for "
          + watch.silentMillis(l, now) + " ms while others deliver; " + owed.size() + " requests go elsewhere");
      out.cancel(s, owed);
      if (p != null) {
        p.benchedAtMillis = now;
      }
    }
    return j.allSilent();
  }
}
