package io.patchmesh.transfer.sim;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.ManifestSession;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.StoreResult;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.transfer.swarm.SwarmCore;
import io.patchmesh.transfer.swarm.SwarmEvent;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One simulated node: the real {@link SwarmCore} (fetching and serving halves), its links, its
 * store model (bits: a stored chunk is a set bit of the session's map), and the driver that feeds
 * the core and carries out its actions on the simulated network — what {@code runtime/Swarm} and
 * {@code runtime/SwarmDriver} do over sockets, workers and RocksDB. Nothing here decides anything
 * the core decides.
 */
final class SimNode {
  final SwarmSimulation sim;
  final int index;
  final NodeId id;
  /** Index of the site, -1 for the seed's own site. */
  final int site;
  final String siteName;
  final boolean seed;
  final SwarmCore core;
  final Map<NodeId, SimLink> links = new LinkedHashMap<>();
  boolean alive = true;
  /** Serves pieces whose bytes fail verification, every one. */
  boolean corrupt;
  /** Its store refuses every chunk once it holds this many (--full-disks); MAX_VALUE: room for all. */
  int storeLimit = Integer.MAX_VALUE;
  int stored;
  /** Stored chunks that are found corrupt when read for serving (--rotten-chunks): lost at that read. */
  final BitSet rotten = new BitSet();
  long completedAt = -1;
  /** When its next tick is due (Long.MAX_VALUE: none scheduled, the core is idle). */
  long tickAt = Long.MAX_VALUE;
  double lanUplinkFreeMillis;
  long bytesSent;

  SimNode(SwarmSimulation sim, int index, NodeId id, int site, String siteName, boolean seed, int slots, Random random) {
    this.sim = sim;
    this.index = index;
    this.id = id;
    this.site = site;
    this.siteName = siteName;
    this.seed = seed;
    this.core = new SwarmCore(id, siteName, sim.transfer, sim.swarm, slots, random, new Links(),
        () -> sim.membersSeenBy(this));
  }

  /** An agent that is neither corrupt nor dead nor short of disk: the ones that must complete. */
  boolean honest() {
    return !seed && !corrupt && alive && storeLimit == Integer.MAX_VALUE;
  }

  ManifestSession session() {
    return core.fetching().session(sim.manifest.id());
  }

  /** The manifest arrives: the core starts its session (the seed holds every chunk). */
  void begin() {
    ChunkTable table = sim.table;
    HaveMap mine = seed ? HaveMap.complete(table.count()) : new HaveMap(table.count());
    CoreMeter m = sim.meter;
    m.enter();
    core.fetching().begin(sim.manifest, table, mine, true, sim.wire.now());
    m.exit();
    act();
  }

  /** A new link to {@code peer} is up at this end. */
  SimLink linkUp(SimNode peer) {
    LinkRef ref = new LinkRef(peer.id, ++sim.linkEpochs, peer.siteName, SwarmSimulation.roles(peer.seed));
    boolean lan = peer.site == site;
    SimLink l = new SimLink(this, peer, ref, lan, sim.sendBufferBytes(this, peer, lan));
    links.put(peer.id, l);
    CoreMeter m = sim.meter;
    m.enter();
    core.onLinkUp(ref, sim.wire.now());
    m.exit();
    act();
    return l;
  }

  /**
   * The link is closed (by either side, or the oracle reported the peer dead). Superseded if a
   * newer link to the same peer is up by now (both dialled at once and this one lost the tie late),
   * as {@code runtime/Swarm.onLinkDown} tells the core.
   */
  void linkDown(SimLink l) {
    if (!l.open) {
      return;
    }
    l.open = false;
    if (alive) {
      SimLink newest = links.get(l.peer.id);
      boolean superseded = newest != null && newest != l && newest.open;
      CoreMeter m = sim.meter;
      m.enter();
      core.onLinkDown(l.ref, superseded, sim.wire.now());
      m.exit();
      act();
    }
  }

  private SimLink openLink(SimNode from) {
    SimLink l = links.get(from.id);
    return alive && l != null && l.open ? l : null;
  }

  /** A control frame from {@code from} arrived, in order, on the link's control connection. */
  void onControl(SimNode from, Frame f) {
    SimLink l = openLink(from);
    if (l == null) {
      return;
    }
    long now = sim.wire.now();
    CoreMeter m = sim.meter;
    m.enter();
    switch (f.getBodyCase()) {
      case REQUEST -> core.onRequest(l.ref, f.getRequest(), now);
      case CANCEL -> core.serving().onCancel(l.ref, f.getCancel());
      case REJECT -> core.fetching().onReject(l.ref, f.getReject(), now);
      case HAVE -> core.fetching().onHave(l.ref, f.getHave(), now);
      case HAVE_MAP -> core.fetching().onHaveMap(l.ref, f.getHaveMap(), now);
      default -> throw new IllegalStateException("the swarm core sent " + f.getBodyCase());
    }
    m.exit();
    act();
  }

  /** A piece from {@code from} arrived on the link's data connection. */
  void onPiece(SimNode from, Piece piece) {
    SimLink l = openLink(from);
    if (l == null) {
      return;
    }
    CoreMeter m = sim.meter;
    m.pieceIn();
    m.enter();
    core.fetching().onPiece(l.ref, piece, sim.wire.now());
    m.exit();
    act();
  }

  /** Housekeeping, as the node loop's tick: every open link's received bytes, then the core's tick. */
  void tick() {
    tickAt = Long.MAX_VALUE;
    if (!alive) {
      return;
    }
    Map<LinkRef, Long> bytesIn = new HashMap<>();
    for (SimLink l : links.values()) {
      if (l.open) {
        bytesIn.put(l.ref, l.bytesIn);
      }
    }
    CoreMeter m = sim.meter;
    m.enter();
    core.fetching().tick(sim.wire.now(), bytesIn);
    core.onTimer(sim.wire.now());
    m.exit();
    act();
  }

  /**
   * Schedules the next tick where the core wants it, as the runtime's timers do: never sooner than
   * one node-loop tick ({@link SwarmSimulation#TICK_MILLIS}) apart, at most half a pause apart while
   * busy (the core's own bound), none while idle.
   */
  private void scheduleTick() {
    long now = sim.wire.now();
    CoreMeter m = sim.meter;
    m.enter();
    long want = core.nextTimerMillis(now);
    m.exit();
    if (want == Long.MAX_VALUE) {
      return; // idle: the next input that makes it busy schedules one
    }
    long at = Math.max(want, now + SwarmSimulation.TICK_MILLIS);
    if (at >= tickAt) {
      return;
    }
    tickAt = at;
    sim.wire.at(at, () -> {
      if (tickAt == at) {
        tick();
      }
    });
  }

  /** Carries out what the core decided, on the simulated network, then takes its events. */
  void act() {
    CoreMeter m = sim.meter;
    m.enter();
    List<SwarmAction> actions = core.poll();
    m.exit();
    for (int i = 0; i < actions.size(); i++) { // indexed, as runtime/SwarmDriver: no iterator per call
      carryOut(actions.get(i));
    }
    m.enter();
    List<SwarmEvent> events = core.pollEvents();
    m.exit();
    for (int i = 0; i < events.size(); i++) {
      onEvent(events.get(i));
    }
    if (alive) {
      scheduleTick();
    }
  }

  private void carryOut(SwarmAction a) {
    if (a instanceof SwarmAction.SendControl c) {
      SimLink l = current(c.to());
      if (l != null) {
        Frame f = c.frame();
        sim.wire.control(l, () -> l.peer.onControl(this, f));
      }
    } else if (a instanceof SwarmAction.ReadChunk r) {
      sim.wire.at(sim.wire.now(), () -> read(r));
    } else if (a instanceof SwarmAction.SendPiece p) {
      SimLink l = current(p.to());
      if (l != null) {
        bytesSent += p.payloadBytes();
        sim.meter.pieceOut();
        sim.wire.piece(this, l, p.piece().getPiece(), p.payloadBytes());
      }
    } else if (a instanceof SwarmAction.Park p) {
      SimLink l = links.get(p.to().peer());
      if (l != null && l.ref.equals(p.to())) {
        l.parked = true;
        sim.wire.at(sim.wire.now(), l::drained); // it may take bytes already
      } else {
        sim.wire.at(sim.wire.now(), () -> wake(p.to())); // gone: the core lets go of its pieces
      }
    } else if (a instanceof SwarmAction.StoreChunk st) {
      sim.wire.at(sim.wire.now() + sim.cfg.storeDelayMillis(), () -> store(st));
    } else if (a instanceof SwarmAction.Yield) {
      sim.wire.at(sim.wire.now(), () -> {
        if (alive) {
          sim.meter.enter();
          core.fetching().resume(sim.wire.now());
          sim.meter.exit();
          act();
        }
      });
    } else if (a instanceof SwarmAction.Dial d) {
      sim.dial(this, d.peer());
    } else if (a instanceof SwarmAction.Close c) {
      if (c.ban()) {
        sim.banned(sim.node(c.link().peer()));
      }
      sim.close(this, current(c.link()));
    } else {
      throw new IllegalStateException("no driver for " + a); // ChunkLost stays inside SwarmCore
    }
  }

  /** The open link {@code ref} names (not an older or newer one to the same peer), or null. */
  private SimLink current(LinkRef ref) {
    SimLink l = links.get(ref.peer());
    return l != null && l.open && (l.ref == ref || l.ref.equals(ref)) ? l : null;
  }

  void wake(LinkRef ref) {
    if (alive) {
      sim.meter.enter();
      core.serving().onWritable(ref, sim.wire.now());
      sim.meter.exit();
      act();
    }
  }

  /** The store model's read: a rotten chunk is found corrupt and dropped (once); else a piece of zeros. */
  private void read(SwarmAction.ReadChunk r) {
    if (!alive) {
      return;
    }
    int idx = r.upload().index();
    Frame piece = null;
    if (rotten.get(idx)) {
      rotten.clear(idx); // dropped by the store; a copy fetched again is sound
    } else {
      piece = Frame.newBuilder().setPiece(sim.piece(r.upload(), corrupt)).build();
    }
    sim.meter.enter();
    core.serving().onChunkRead(r.to(), r.upload(), piece, false, sim.wire.now());
    sim.meter.exit();
    act();
  }

  /**
   * The store model's put: bytes that do not verify (a corrupt peer's) are refused as a hash
   * mismatch, a full store refuses the chunk, anything else is kept (the core sets its bit).
   */
  private void store(SwarmAction.StoreChunk st) {
    if (!alive) {
      return;
    }
    StoreResult result;
    if (!SwarmSimulation.verifies(st.data())) {
      result = new StoreResult(StoreResult.Kind.CORRUPT, "hash mismatch", List.of());
    } else if (stored >= storeLimit) {
      result = new StoreResult(StoreResult.Kind.FULL, "simulated disk full", List.of());
    } else {
      stored++;
      result = StoreResult.stored(List.of());
    }
    sim.meter.enter();
    core.fetching().onStored(st, result, sim.wire.now());
    sim.meter.exit();
    act();
  }

  private void onEvent(SwarmEvent e) {
    if (e instanceof SwarmEvent.SessionComplete && !seed && completedAt < 0) {
      completedAt = sim.wire.now();
      sim.completed(this);
    } else if (e instanceof SwarmEvent.PeerBanned b) {
      sim.banned(sim.node(b.peer()));
    }
  }

  private final class Links implements Serving.Links {
    @Override
    public boolean isOpen(LinkRef ref) {
      return alive && current(ref) != null;
    }

    @Override
    public boolean dataWritable(LinkRef ref) {
      SimLink l = alive ? current(ref) : null;
      return l != null && l.writable();
    }
  }

  @Override
  public String toString() {
    return seed ? "seed" : "agent-" + index + "@" + siteName;
  }
}
