package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.mesh.Member;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.swarm.Fetching;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.ManifestSession;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.transfer.swarm.SwarmCore;
import io.patchmesh.transfer.swarm.SwarmEvent;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of the swarm as the rest of the runtime sees it: frames and link events in, the
 * sessions' views out. Every decision is the sans-I/O {@link SwarmCore}'s (serving and fetching);
 * this class maps {@link PeerLink}s to {@link LinkRef}s, feeds the core on the node loop with the
 * loop's time, has {@link SwarmDriver} carry out its actions (sends, store reads and writes on
 * workers, dials, closes), and turns its events into metrics, log lines and the node's callbacks
 * (completion, progress, staging). Every received piece is hashed by the store before it is stored,
 * served or counted. Runs on the node loop.
 */
final class Swarm {
  private static final Logger log = LoggerFactory.getLogger(Swarm.class);

  private final NodeLoop loop;
  private final Transport transport;
  private final ChunkStore chunks;
  private final NodeMetrics metrics;
  private final Consumer<TransferSession> onComplete;
  private final Runnable onProgress;
  /** Told (on the loop) of every chunk a session has just stored, i.e. verified; see BackgroundStaging. */
  private StoredListener onChunkStored = (s, idx, verified) -> {};
  private Runnable onWork = () -> {};

  private final LinkRefs refs = new LinkRefs();
  private final SwarmCore core;
  private final SwarmDriver driver;
  /** The node's views of the core's sessions, same keys. */
  private final Map<ManifestId, TransferSession> views = new HashMap<>();
  private final PieceTally.Counter tally = new PieceTally.Counter();
  /** The links' received byte counts at a full tick, refilled each time (read during the tick only). */
  private final Map<LinkRef, Long> bytesIn = new HashMap<>();

  Swarm(NodeId self, String site, Transport transport, NodeLoop loop, ChunkStore chunks, NodeMetrics metrics,
      TransferConfig config, int uploadSlots, Supplier<Collection<Member>> members,
      Consumer<TransferSession> onComplete, Runnable onProgress) {
    this(self, site, transport, loop, chunks, metrics, config, SwarmConfig.defaults(), uploadSlots, members, onComplete,
        onProgress);
  }

  Swarm(NodeId self, String site, Transport transport, NodeLoop loop, ChunkStore chunks, NodeMetrics metrics,
      TransferConfig config, SwarmConfig swarmConfig, int uploadSlots, Supplier<Collection<Member>> members,
      Consumer<TransferSession> onComplete, Runnable onProgress) {
    this.transport = transport;
    this.loop = loop;
    this.chunks = chunks;
    this.metrics = metrics;
    this.onComplete = onComplete;
    this.onProgress = onProgress;
    this.core = new SwarmCore(self, site, config, swarmConfig, uploadSlots, new Random(self.hashCode()),
        SwarmDriver.links(refs), members);
    this.driver = new SwarmDriver(site, loop, transport, chunks, metrics, refs, core, this::onEvent);
    if (swarmConfig.uploadYield() != null) {
      loop.every(SwarmDriver.RTT_SAMPLE_MILLIS, driver::sampleRtts); // upload-yield's delay samples
    }
  }

  private Fetching fetching() {
    return core.fetching();
  }

  /** Called on the loop when fetching starts, so a node that was idle ticks at once. */
  void onWork(Runnable listener) {
    this.onWork = listener;
  }

  /**
   * How late the node's loop runs at a given time (ms; {@link NodeTimers#lateMillis}): told to the
   * request pacer with each WAN piece, so our own loop's wait is not read as the site link's queue.
   */
  void ownLag(java.util.function.LongUnaryOperator lateMillis) {
    driver.ownLag(lateMillis);
  }

  /** What the loop did for the swarm since the last session started. */
  io.patchmesh.transfer.swarm.LoopCounts counts() {
    return fetching().counts();
  }

  /** True while a session fetches or has Haves to send: then the node ticks at its full rate. */
  boolean busy() {
    return fetching().timers().busy();
  }

  /**
   * Told of chunk {@code idx} of {@code s} just stored; {@code verified}: the bytes the store hashed
   * and stored for it, when this carry-out has them (null otherwise: read them from the store).
   */
  interface StoredListener {
    void stored(TransferSession s, int idx, SwarmDriver.Verified verified);
  }

  void onChunkStored(StoredListener listener) {
    this.onChunkStored = listener;
  }

  Collection<TransferSession> sessions() {
    views.values().forEach(TransferSession::refresh);
    return views.values();
  }

  Optional<TransferSession> session(ManifestId id) {
    return Optional.ofNullable(views.get(id)).map(TransferSession::refresh);
  }

  boolean isBanned(NodeId peer) {
    return core.isBanned(peer, loop.now());
  }

  /**
   * Starts trading a manifest. Reads which chunks the store already holds (on a worker), then the
   * core offers our have-map to the relevant peers.
   */
  void start(VerifiedManifest vm, boolean wanted) {
    if (fetching().holds(vm.id())) {
      return;
    }
    ChunkTable table = ChunkTable.of(vm.manifest());
    loop.work(() -> {
      HaveMap mine = new HaveMap(table.count());
      for (int i = 0; i < table.count(); i++) {
        if (chunks.has(table.id(i))) {
          mine.set(i);
        }
      }
      loop.execute(() -> {
        if (fetching().holds(vm.id())) {
          return;
        }
        fetching().begin(vm, table, mine, wanted, loop.now());
        views.put(vm.id(), new TransferSession(fetching().session(vm.id())));
        driver.carryOut();
      });
    });
  }

  /** Forgets a manifest (e.g. garbage-collected). */
  void stop(ManifestId id) {
    fetching().stop(id);
    views.remove(id);
  }

  void onLinkUp(PeerLink link) {
    core.onLinkUp(refs.ref(link), loop.now());
    driver.carryOut();
  }

  void onLinkDown(PeerLink link) {
    // A link replaced by a newer one to the same peer (both dialled at once) can go down after the
    // newer one came up: what belongs to the peer then carries on over the newer link.
    boolean superseded = transport.link(link.peerId()).filter(l -> l != link).isPresent();
    LinkRef ref = refs.ref(link);
    refs.forget(link);
    core.onLinkDown(ref, superseded, loop.now());
    if (link.refusedByPolicy()) {
      // a laptop policy (the peer's: its Goodbye said so; or ours) refuses this link: that
      // site-mate owns no share of the site's fetches (Fetching#onDialFailed)
      fetching().onDialFailed(link.peerId(), "link refused by a laptop policy", loop.now());
    }
    driver.carryOut();
  }

  void onMembersChanged() {
    fetching().onMembersChanged(loop.now());
    driver.carryOut();
  }

  void onHaveMap(PeerLink link, io.patchmesh.proto.HaveMap proto) {
    fetching().onHaveMap(refs.ref(link), proto, loop.now());
    driver.carryOut();
  }

  void onHave(PeerLink link, Have have) {
    fetching().onHave(refs.ref(link), have, loop.now());
    driver.carryOut();
  }

  void onRequest(PeerLink link, Request req) {
    if (!link.isOpen()) {
      return; // queued behind the frame that got it disconnected
    }
    core.onRequest(refs.ref(link), req, loop.now());
    driver.carryOut();
  }

  void onCancel(PeerLink link, Cancel c) {
    core.serving().onCancel(refs.ref(link), c);
    driver.carryOut();
  }

  void onReject(PeerLink link, Reject r) {
    fetching().onReject(refs.ref(link), r, loop.now());
    driver.carryOut();
  }

  /**
   * A piece arrived (on the data connection) at {@code receivedAtMillis} (taken on the I/O thread
   * that decoded it). It is hashed by the store before anything else.
   */
  void onPiece(PeerLink link, Piece piece, long receivedAtMillis) {
    LinkRef ref = refs.ref(link);
    driver.samplePathRtt(link, ref); // wan-yield's delay, before the piece that acknowledges it
    driver.sampleOneWay(ref, piece, receivedAtMillis); // and its one-way delay, where the sender stamps it
    fetching().onPiece(ref, piece, loop.now(), receivedAtMillis);
    driver.carryOut();
  }

  /** A strike against {@code peer} from outside the swarm (manifest sync); see {@link Fetching#charge}. */
  void charge(NodeId peer, String why) {
    fetching().charge(peer, why, loop.now());
    driver.carryOut();
  }

  /**
   * Housekeeping (see {@link Fetching#tick}), with every link's received byte count while a
   * session fetches (the WAN link watch's input); an idle node's wake-up builds no such map.
   */
  void tick() {
    Map<LinkRef, Long> bytesIn = Map.of();
    if (fetching().timers().watchesLinks()) {
      // the links the swarm knows (every link up it was told of), read in place: the transport's
      // list was a stream and a copy at every full tick (BENCHMARKS 13ao)
      bytesIn = this.bytesIn;
      bytesIn.clear();
      refs.forEachOpen((l, r) -> this.bytesIn.put(r, l.bytesIn()));
    }
    fetching().tick(loop.now(), bytesIn);
    driver.carryOut();
  }

  /** The earliest deadline a {@link #tick} acts on while fetching (see {@link io.patchmesh.transfer.swarm.FetchTimers#tickDeadlineMillis}). */
  long tickDeadlineMillis(long now) {
    return fetching().timers().tickDeadlineMillis(now);
  }

  /** When the chunks gained and not yet told to the site's agents are due to go (Long.MAX_VALUE: none). */
  long siteHavesDueMillis() {
    return fetching().timers().siteHavesDueMillis();
  }

  /** Tells the site's agents of the chunks gained, and nothing else (a wake-up between full ticks). */
  void flushSiteHaves() {
    fetching().timers().flushSiteHaves(loop.now());
    driver.carryOut();
  }

  /** One line of what the swarm is doing, for diagnostics (loop thread). */
  String describe() {
    return core.describe();
  }

  /** Piece bytes received so far by link class, duplicates included (to explain WAN byte counts). */
  PieceTally pieceTally() {
    return tally.snapshot();
  }

  /** The core's events: metrics, log lines, and the node's callbacks. */
  private void onEvent(SwarmEvent e) {
    if (e instanceof SwarmEvent.PieceReceived p) {
      tally.received(p.wan(), p.bytes());
      if (p.duplicate()) {
        metrics.duplicateChunk();
        tally.duplicate(p.wan(), p.bytes());
      }
    } else if (e instanceof SwarmEvent.ChunkStored c) {
      TransferSession s = views.get(c.manifest());
      if (c.fresh()) {
        metrics.chunkReceived(c.source() == PeerClass.LAN ? NodeMetrics.Source.LAN
            : c.fromSeed() ? NodeMetrics.Source.SEED : NodeMetrics.Source.WAN, c.bytes());
      }
      if (s != null) {
        onChunkStored.stored(s.refresh(), c.index(), driver.justStored());
      }
    } else if (e instanceof SwarmEvent.SessionComplete c) {
      TransferSession s = views.get(c.manifest());
      if (s != null) {
        onComplete.accept(s.refresh());
      }
    } else if (e instanceof SwarmEvent.Progress) {
      onProgress.run();
    } else if (e instanceof SwarmEvent.FetchStarted) {
      onWork.run();
    } else if (e instanceof SwarmEvent.CorruptPiece c) {
      metrics.chunkVerifyFailed();
      ManifestSession s = fetching().session(c.manifest());
      log.warn("{}: chunk {} from {} failed verification ({})", s == null ? c.manifest() : s.vm(), c.index(),
          c.from().shortHex(), c.why());
    } else if (e instanceof SwarmEvent.PeerBanned b) {
      metrics.peerBanned();
      log.warn("banning {}: {}", b.peer().shortHex(), b.why());
    } else if (e instanceof SwarmEvent.StoreFull f) {
      ManifestSession s = fetching().session(f.manifest());
      log.warn("{}: store full, fetching paused and retried until there is room: {}",
          s == null ? f.manifest() : s.vm(), f.why());
    } else if (e instanceof SwarmEvent.Note n) {
      log.info("{}", n.text());
    }
  }
}
