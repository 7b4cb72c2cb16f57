package io.patchmesh.transfer.sim;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Request;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.swarm.HaveFanout;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.PeerDiscipline;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.trust.ManifestId;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One simulated node: its real {@link Serving} core and {@link PeerDiscipline}, its real {@link
 * ChunkPicker} (agents only), its links, and the driver code that carries out the serving core's
 * actions on the simulated network ({@link #act}).
 */
final class SimNode {
  final SwarmSimulation sim;
  final int index;
  final NodeId id;
  /** Index of the site, -1 for the seed's own site. */
  final int site;
  final String siteName;
  final boolean seed;
  final HaveMap have;
  final PeerDiscipline discipline;
  final Serving serving;
  final Map<NodeId, SimLink> links = new LinkedHashMap<>();
  ChunkPicker picker;
  boolean alive = true;
  boolean corrupt;
  /** Its store refuses every chunk once it holds this many (--full-disks); MAX_VALUE: room for all. */
  int storeLimit = Integer.MAX_VALUE;
  int stored;
  /** Stored chunks that are found corrupt when read for serving (--rotten-chunks); then lost. */
  final BitSet rotten = new BitSet();
  final BitSet lost = new BitSet();
  /** Chunks gained and not yet announced ({@link HaveFanout}: site now, other sites batched). */
  final HaveFanout.Batch haves = new HaveFanout.Batch();
  /** The runtime's silent-WAN-link rule, fed from the links' received bytes every tick. */
  final io.patchmesh.transfer.swarm.WanLinkWatch watch;
  boolean haveFlushScheduled;
  long lastWanHaveFlushMillis;
  boolean pumpScheduled;
  /** The next pump goes over every peer ... */
  boolean pumpAll;
  /** ... or over these alone. */
  final List<NodeId> pumpPeers = new java.util.ArrayList<>(2);
  long completedAt = -1;
  double lanUplinkFreeMillis;
  long bytesSent;

  SimNode(SwarmSimulation sim, int index, NodeId id, int site, String siteName, boolean seed, int slots) {
    this.sim = sim;
    this.index = index;
    this.id = id;
    this.site = site;
    this.siteName = siteName;
    this.seed = seed;
    int n = sim.table.count();
    this.have = seed ? HaveMap.complete(n) : new HaveMap(n);
    this.discipline = new PeerDiscipline(sim.swarm);
    this.serving = new Serving(slots, sim.swarm, discipline, new Held(), new Links());
    this.watch = new io.patchmesh.transfer.swarm.WanLinkWatch(sim.swarm);
  }

  /** An agent that is neither corrupt nor dead: the ones that must complete. */
  boolean honest() {
    return !seed && !corrupt && alive && storeLimit == Integer.MAX_VALUE;
  }

  void linkTo(SimNode peer) {
    LinkRef ref = new LinkRef(peer.id, ++sim.linkEpochs, peer.siteName, SwarmSimulation.roles(peer.seed));
    SimLink l = new SimLink(this, peer, ref, peer.site == site);
    links.put(peer.id, l);
    serving.onLinkUp(ref);
  }

  private SimLink openLink(SimNode from) {
    SimLink l = links.get(from.id);
    return alive && l != null && l.open ? l : null;
  }

  void onRequest(SimNode from, Request r) {
    SimLink l = openLink(from);
    if (l != null) {
      serving.onRequest(l.ref, sim.manifest, r, sim.wire.now());
      act();
    }
  }

  void onCancel(SimNode from, Cancel c) {
    SimLink l = openLink(from);
    if (l != null) {
      serving.onCancel(l.ref, c);
      act();
    }
  }

  void onReject(SimNode from, int idx) {
    if (openLink(from) != null && picker != null) {
      picker.onReject(from.id, idx, sim.wire.now());
      sim.pump(this, from.id);
    }
  }

  /** A Have frame: {@code from} gained these chunks. */
  void onHaves(SimNode from, int[] indexes) {
    if (openLink(from) == null || picker == null || picker.isComplete()) {
      return;
    }
    boolean useful = false;
    long now = sim.wire.now();
    for (int idx : indexes) {
      try {
        sim.cancel(this, picker.onHave(from.id, idx, now));
      } catch (HaveMapException e) {
        throw new IllegalStateException(e); // the simulation only sends indexes in range
      }
      useful |= !picker.has(idx);
    }
    // A Have makes new candidates at its sender only; the other peers' pipelines are refilled by
    // the events that free them and by the tick.
    if (useful && picker.freeSlots(from.id) > 0) {
      sim.pump(this, from.id);
    }
  }

  /** Announces what {@link #haves} holds: to site agents now, other sites' agents if {@code wanToo}. */
  void flushHaves(boolean wanToo) {
    List<Integer> forSite = haves.takeForSite();
    List<Integer> forOthers = wanToo ? haves.takeForOtherSites() : List.of();
    int[] site = forSite.stream().mapToInt(Integer::intValue).toArray();
    int[] others = forOthers.stream().mapToInt(Integer::intValue).toArray();
    for (SimLink h : links.values()) {
      if (!h.open || h.peer.seed) {
        continue;
      }
      int[] batch = h.lan ? site : others;
      if (batch.length > 0) {
        sim.wire.control(h, () -> h.peer.onHaves(this, batch));
      }
    }
  }

  /** The link is closed (by either side, or the oracle reported the peer dead). */
  void linkDown(SimLink l) {
    l.open = false;
    serving.onLinkDown(l.ref, false);
    act();
    if (picker != null) {
      long now = sim.wire.now();
      picker.onPeerGone(l.peer.id, now);
      if (l.lan) {
        picker.onSiteMembers(sim.siteMembersSeenBy(this), now);
      }
      sim.pump(this);
    }
  }

  /** Carries out what the serving core asks for, on the simulated network. */
  void act() {
    for (SwarmAction a : serving.poll()) {
      if (a instanceof SwarmAction.SendControl c) {
        SimLink l = links.get(c.to().peer());
        if (l != null && l.open && c.frame().hasReject()) {
          int idx = c.frame().getReject().getChunkIndex();
          sim.wire.control(l, () -> l.peer.onReject(this, idx));
        }
      } else if (a instanceof SwarmAction.ReadChunk r) {
        sim.wire.at(sim.wire.now(), () -> {
          if (alive) {
            int idx = r.upload().index();
            boolean rots = rotten.get(idx) && !lost.get(idx);
            if (rots) {
              lost.set(idx); // the store drops it; the serving core tells the requester "busy"
            }
            serving.onChunkRead(r.to(), r.upload(), rots ? null : sim.piece(r.upload()), false);
            act();
          }
        });
      } else if (a instanceof SwarmAction.SendPiece p) {
        SimLink l = links.get(p.to().peer());
        if (l != null && l.open && l.ref.equals(p.to())) {
          bytesSent += p.payloadBytes();
          sim.wire.piece(this, l, p.piece().getPiece().getChunkIndex(), p.payloadBytes(), corrupt);
        }
      } else if (a instanceof SwarmAction.Park p) {
        SimLink l = links.get(p.to().peer());
        if (l != null && l.ref.equals(p.to())) {
          l.parked = true;
          sim.wire.at(sim.wire.now(), l::drained); // it may take bytes already
        }
      } else if (a instanceof SwarmAction.Close c) {
        sim.close(this, links.get(c.link().peer()), c.ban(), true);
      }
      // ChunkLost: recorded in `lost` when the read found the chunk rotten
    }
  }

  private final class Held implements Serving.Held {
    @Override
    public int chunkCount(ManifestId manifest) {
      return manifest.equals(sim.manifest) ? sim.table.count() : -1;
    }

    @Override
    public boolean has(ManifestId manifest, int index) {
      return have.has(index);
    }

    @Override
    public boolean lost(ManifestId manifest, int index) {
      return lost.get(index);
    }

    @Override
    public io.patchmesh.content.ChunkId id(ManifestId manifest, int index) {
      return sim.table.id(index);
    }
  }

  private final class Links implements Serving.Links {
    @Override
    public boolean isOpen(LinkRef ref) {
      SimLink l = links.get(ref.peer());
      return alive && l != null && l.open && l.ref.equals(ref);
    }

    @Override
    public boolean dataWritable(LinkRef ref) {
      return isOpen(ref) && links.get(ref.peer()).writable();
    }
  }

  @Override
  public String toString() {
    return seed ? "seed" : "agent-" + index + "@" + siteName;
  }
}
