package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * When the fetching core refills pipelines outside its tick: events mark a session (every peer, or
 * the few peers the event concerns) and ask the driver for one {@link SwarmAction.Yield}; at the
 * {@link #resume} that follows, each marked session is pumped once — once for a burst of events,
 * not once per frame. Part of {@link Fetching}.
 */
final class PumpSchedule {
  private final RequestPump pump;
  private final Outbox out;
  private final LoopCounts counts;
  private boolean yielded;

  PumpSchedule(RequestPump pump, Outbox out, LoopCounts counts) {
    this.pump = pump;
    this.out = out;
    this.counts = counts;
  }

  /** Pumps every peer of {@code s} at the next {@link #resume}. */
  void soon(ManifestSession s) {
    s.pumpAll = true;
    s.pumpPeers.clear();
    yieldOnce();
  }

  /**
   * Pumps {@code peer} alone at the next {@link #resume} (unless every peer is due anyway): for an
   * event that can only have made room or candidates at that peer — its Have added a chunk it
   * holds, its piece freed a slot. The tick's pump over every peer catches what time alone changes
   * (a site-wait running out, the endgame). A node hears a Have from every site-mate for nearly
   * every chunk; pumping all its ~25 peers for each was most of a 10,000-node simulation's CPU.
   */
  void soon(ManifestSession s, NodeId peer) {
    if (!s.pumpAll) {
      s.pumpPeers.add(peer);
    }
    yieldOnce();
  }

  private void yieldOnce() {
    if (!yielded) {
      yielded = true;
      out.act(new SwarmAction.Yield());
    }
  }

  /** After a {@link SwarmAction.Yield}: the pumps that were asked for since. */
  void resume(Collection<ManifestSession> sessions, long now) {
    yielded = false;
    counts.resumes++;
    for (ManifestSession s : List.copyOf(sessions)) {
      if (s.pumpAll) {
        s.pumpAll = false;
        s.pumpPeers.clear();
        pump.pump(s, now);
      } else if (!s.pumpPeers.isEmpty()) {
        Set<NodeId> only = s.pumpPeers; // pumped from here on: events during the pump mark the other set
        s.pumpPeers = s.pumpPeersSpare;
        s.pumpPeersSpare = only;
        pump.pump(s, only, now);
        only.clear();
      }
    }
  }
}
