package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Request;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ledbat.RequestPacer;
import java.util.List;
import java.util.Set;

/**
 * What the fetching core sends to ask for chunks and to announce them: Requests chosen by the
 * picker (with delta bases for WAN sources), and Haves as {@link HaveFanout} says. Part of {@link
 * Fetching}; decisions only, its frames go out through the {@link Outbox}.
 */
final class RequestPump {
  private final String site;
  private final SwarmConfig cfg;
  private final Serving.Links links;
  private final Outbox out;
  /** Paces requests to WAN sources ({@code wan-yield: ledbat}); null: not paced ({@code off}). */
  private final RequestPacer pacer;
  private final LoopCounts counts;
  private long nextRequestId = 1;

  RequestPump(String site, SwarmConfig cfg, Serving.Links links, Outbox out, RequestPacer pacer, LoopCounts counts) {
    this.counts = counts;
    this.site = site;
    this.cfg = cfg;
    this.links = links;
    this.out = out;
    this.pacer = pacer;
  }

  /** Fills every peer's pipeline with what the picker chooses. */
  void pump(ManifestSession s, long now) {
    pump(s, null, now);
  }

  /** The same over the peers of {@code only} alone (every peer if null), in the picker's order. */
  void pump(ManifestSession s, Set<NodeId> only, long now) {
    ChunkPicker picker = s.picker;
    if (picker == null) {
      return;
    }
    counts.pumps++;
    int budget = Integer.MAX_VALUE;
    if (s.storeFullProbing) {
      if (now < s.storeFullRetryMillis) {
        return;
      }
      budget = 1; // one probe; a refusal pushes the next retry out again
      s.storeFullRetryMillis = now + cfg.storeFullRetryMillis();
    }
    for (NodeId peer : only != null && only.size() == 1 ? only : picker.peersByPreference()) {
      if (only != null && !only.contains(peer)) {
        continue;
      }
      ManifestSession.Peer p = s.peers.get(peer);
      if (p == null || !links.isOpen(p.ref) || !p.lan && waitsForSite(s, now) || !p.state.asked()) {
        continue;
      }
      int free = Math.min(Math.min(picker.freeSlots(peer), cfg.maxPipeline() - picker.inFlight(peer)), budget);
      if (pacer != null && !p.lan) {
        // the LEDBAT window is this source's pipeline: the picker's depth (measured rate × RTT + 1)
        // follows what the window let through, and as a second limit it kept the window from growing
        budget -= pumpPaced(s, p, Math.min(cfg.maxPipeline() - picker.inFlight(peer), budget), now);
        continue;
      }
      if (free <= 0) {
        continue;
      }
      counts.picks++;
      for (int idx : picker.pick(peer, free, now)) {
        budget--;
        counts.requests++;
        out.send(p.ref, Frame.newBuilder().setRequest(request(s, p, idx)).build());
      }
    }
  }

  /**
   * No WAN request yet: the session is younger than {@link SwarmConfig#wanStartDelayMillis} and not
   * every site member that shares the WAN fetches has sent its have-map ({@link
   * ManifestSession#siteHeard}). A member that fetched before hearing its site-mates could own every
   * chunk (it sees itself alone) or pull one a site-mate holds; once all of them have been heard there
   * is nothing left to wait for (BENCHMARKS 13p: on the shaped WAN the delay was a second of idle link
   * per rollout). Nor is there when the manifest is new to us ({@link ManifestSession#newToUs}) and
   * our view shows site-mates (the split counts them before their have-maps): their have-maps could
   * only tell of chunks they hold from a history we lack (a new member's), and the wait cost the
   * first rollout after a start the 0.5-1 s by which the slowest site-mate's cold manifest check
   * trailed the first one's (BENCHMARKS 13y). At worst such a member fetches up to the delay's worth
   * of its own share across the WAN that a site-mate held.
   */
  private boolean waitsForSite(ManifestSession s, long now) {
    return now - s.startedMillis < cfg.wanStartDelayMillis() && !s.siteHeard && !(s.newToUs && s.siteMatesSeen);
  }

  /**
   * Requests to a WAN source, one at a time while its LEDBAT window has room (and the picker's
   * pipeline too); returns how many went. The pacer first drops what the picker no longer waits for.
   */
  private int pumpPaced(ManifestSession s, ManifestSession.Peer p, int free, long now) {
    NodeId peer = p.ref.peer();
    pacer.reconcile(peer, s.id, s.picker.inFlight(peer));
    long typical = s.table.averageSize();
    int sent = 0;
    while (sent < free && pacer.mayRequest(peer, now, typical)) {
      counts.picks++;
      List<Integer> picked = s.picker.pick(peer, 1, now);
      if (picked.isEmpty()) {
        break;
      }
      int idx = picked.get(0);
      out.send(p.ref, Frame.newBuilder().setRequest(request(s, p, idx)).build());
      pacer.onSent(peer, s.id, idx, s.table.size(idx), now);
      counts.requests++;
      sent++;
    }
    return sent;
  }

  /**
   * A request; to a WAN source it names the delta bases we hold for the chunk, if any. LAN peers
   * are asked in full: their bytes are cheap, and the one WAN crossing is what deltas save.
   */
  private Request request(ManifestSession s, ManifestSession.Peer p, int idx) {
    Request.Builder r =
        Request.newBuilder().setManifestId(s.id.toByteString()).setChunkIndex(idx).setRequestId(nextRequestId++);
    List<ChunkId> bases = p.lan || s.deltaBases.isEmpty() || s.fullOnly.contains(idx) ? null : s.deltaBases.get(idx);
    if (bases != null) {
      for (ChunkId b : bases) {
        r.addBaseIds(b.toByteString());
      }
    }
    return r.build();
  }

  /** Announces new chunks as {@link HaveFanout} says: site agents now, other sites' agents if {@code wanToo}. */
  void flushHaves(ManifestSession s, boolean wanToo) {
    List<Integer> forSite = s.haves.takeForSite();
    List<Integer> forOthers = wanToo ? s.haves.takeForOtherSites() : List.of();
    Frame siteFrame = forSite.isEmpty() ? null : haveFrame(s, forSite);
    Frame othersFrame = forOthers.isEmpty() ? null : haveFrame(s, forOthers);
    for (ManifestSession.Peer p : s.peers.values()) {
      if (!links.isOpen(p.ref)) {
        continue;
      }
      HaveFanout.Audience a = HaveFanout.audience(p.ref, site);
      if (a == HaveFanout.Audience.SITE && siteFrame != null) {
        out.send(p.ref, siteFrame);
        counts.haveFramesOut++;
      } else if (a == HaveFanout.Audience.OTHER_SITE && othersFrame != null) {
        out.send(p.ref, othersFrame);
        counts.haveFramesOut++;
      }
    }
  }

  private static Frame haveFrame(ManifestSession s, List<Integer> indexes) {
    return Frame.newBuilder()
        .setHave(Have.newBuilder().setManifestId(s.id.toByteString()).addAllChunkIndex(indexes))
        .build();
  }
}
