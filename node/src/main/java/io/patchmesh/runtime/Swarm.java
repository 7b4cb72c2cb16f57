package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.mesh.Member;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.store.StoreFullException;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.PieceOutcome;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.delta.DeltaBases;
import io.patchmesh.transfer.delta.DeltaDecoder;
import io.patchmesh.transfer.delta.DeltaException;
import io.patchmesh.transfer.delta.DeltaLimits;
import io.patchmesh.transfer.swarm.HaveFanout;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.PeerDiscipline;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.SiteInterest;
import io.patchmesh.transfer.swarm.SourceState;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.transfer.swarm.WanLinkWatch;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of the swarm: have-maps, requests, pieces, uploads, for every manifest it holds.
 * The fetching side still mixes decisions with effects (issue 16 moves them into a sans-I/O core);
 * the serving side already is one: requests and cancels go to the {@link Serving} core through
 * {@link SwarmDriver}, which carries out its actions. Pure parts this class uses: which chunk to ask
 * of whom ({@link ChunkPicker}), who in the site shares the WAN fetches ({@link SiteInterest}), who
 * hears our have-map and Haves ({@link HaveFanout}), the judging of peers ({@link PeerDiscipline}), the silent-WAN-link rule ({@link WanLinkWatch}), a
 * peer's standing as a source ({@link SourceState}), the timings ({@link SwarmConfig}). What remains
 * here is the session registry, dialling, the reserve, delta planning, piece validation and
 * storing, with their worker hops, link calls and store writes.
 * Every received piece is hashed by the store before it is stored, served or counted; a mismatch
 * drops it, gives its sender a strike and the chunk is asked of someone else. Runs on the node
 * loop; store reads and writes run on workers. Links are told apart by {@link LinkRef}, not by
 * object identity.
 */
final class Swarm {
  private static final Logger log = LoggerFactory.getLogger(Swarm.class);

  private final NodeId self;
  private final String site;
  private final Transport transport;
  private final NodeLoop loop;
  private final ChunkStore chunks;
  private final NodeMetrics metrics;
  private final TransferConfig config;
  private final Supplier<Collection<Member>> members;
  private final Consumer<TransferSession> onComplete;
  private final Runnable onProgress;
  private final Random random;
  /** Told (on the loop) of every chunk a session has just stored, i.e. verified; see BackgroundStaging. */
  private java.util.function.ObjIntConsumer<TransferSession> onChunkStored = (s, idx) -> {};
  private Runnable onWork = () -> {};

  private final Map<ManifestId, TransferSession> sessions = new HashMap<>();
  private final SwarmConfig cfg;
  /** The serving side: a sans-I/O core ({@link Serving}) and the driver that carries out its actions. */
  private final SwarmDriver driver;
  /** Offences, corrupt pieces, bans and the stalled-peer rule. */
  private final PeerDiscipline discipline;
  private final WanLinkWatch watch;
  private final LinkRefs refs = new LinkRefs();
  private long nextRequestId = 1;
  private long lastWanHaveFlushMillis;
  private long lastDialMillis;
  private long lastTickMillis = Long.MIN_VALUE;
  private final PieceTally.Counter tally = new PieceTally.Counter();

  Swarm(
      NodeId self,
      String site,
      Transport transport,
      NodeLoop loop,
      ChunkStore chunks,
      NodeMetrics metrics,
      TransferConfig config,
      int uploadSlots,
      Supplier<Collection<Member>> members,
      Consumer<TransferSession> onComplete,
      Runnable onProgress) {
    this(self, site, transport, loop, chunks, metrics, config, SwarmConfig.defaults(), uploadSlots, members, onComplete,
        onProgress);
  }

  Swarm(
      NodeId self,
      String site,
      Transport transport,
      NodeLoop loop,
      ChunkStore chunks,
      NodeMetrics metrics,
      TransferConfig config,
      SwarmConfig swarmConfig,
      int uploadSlots,
      Supplier<Collection<Member>> members,
      Consumer<TransferSession> onComplete,
      Runnable onProgress) {
    this.self = self;
    this.cfg = swarmConfig;
    this.site = site;
    this.transport = transport;
    this.loop = loop;
    this.chunks = chunks;
    this.metrics = metrics;
    this.config = config;
    this.members = members;
    this.onComplete = onComplete;
    this.onProgress = onProgress;
    this.discipline = new PeerDiscipline(swarmConfig);
    this.driver = new SwarmDriver(site, loop, chunks, metrics, refs,
        links -> new Serving(uploadSlots, swarmConfig, discipline, new Held(), links), this::chunkLost);
    this.watch = new WanLinkWatch(swarmConfig);
    this.random = new Random(self.hashCode());
  }

  /** Called on the loop when fetching starts, so a node that was idle ticks at once. */
  void onWork(Runnable listener) {
    this.onWork = listener;
  }

  /** True while a session fetches or has Haves to send: then the node ticks at its full rate. */
  boolean busy() {
    for (TransferSession s : sessions.values()) {
      if (s.picker != null || !s.haves.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  void onChunkStored(java.util.function.ObjIntConsumer<TransferSession> listener) {
    this.onChunkStored = listener;
  }

  Collection<TransferSession> sessions() {
    return sessions.values();
  }

  Optional<TransferSession> session(ManifestId id) {
    return Optional.ofNullable(sessions.get(id));
  }

  boolean isBanned(NodeId peer) {
    return discipline.isBanned(peer, loop.now());
  }

  /**
   * Starts trading a manifest. Reads which chunks the store already holds (on a
   * worker), then offers our have-map to the relevant peers.
   */
  void start(VerifiedManifest vm, boolean wanted) {
    if (sessions.containsKey(vm.id())) {
      return;
    }
    ChunkTable table = ChunkTable.of(vm.manifest());
    loop.work(
        () -> {
          HaveMap mine = new HaveMap(table.count());
          for (int i = 0; i < table.count(); i++) {
            if (chunks.has(table.id(i))) {
              mine.set(i);
            }
          }
          loop.execute(() -> begin(vm, table, mine, wanted));
        });
  }

  private void begin(VerifiedManifest vm, ChunkTable table, HaveMap mine, boolean wanted) {
    if (sessions.containsKey(vm.id())) {
      return;
    }
    long now = loop.now();
    TransferSession s = new TransferSession(vm, table, mine, wanted, now);
    if (wanted && !mine.isComplete()) {
      s.picker = new ChunkPicker(self, table, mine, config, new Random(random.nextLong()), now);
      s.deltaBases = deltaPlan(vm);
      updateSiteMembers(s, now);
    }
    sessions.put(vm.id(), s);
    log.info("{}: {} of {} chunks held{}", vm, mine.count(), table.count(), wanted ? "" : " (serving only)");
    if (s.picker != null) {
      onWork.run();
    }
    if (mine.isComplete() && wanted) {
      onComplete.accept(s);
    }
    for (PeerLink link : transport.links()) {
      if (relevant(link)) {
        offer(s, link);
      }
    }
    if (s.picker != null) {
      dialSite();
    }
    onProgress.run();
  }

  /**
   * Delta bases for a new version: against the newest older version of the same channel this node
   * holds a session for, naming only chunks that session holds (stored verified).
   */
  private Map<Integer, List<ChunkId>> deltaPlan(VerifiedManifest vm) {
    TransferSession prev = null;
    for (TransferSession o : sessions.values()) {
      if (o.vm.channel().equals(vm.channel())
          && o.vm.version() < vm.version()
          && (prev == null || o.vm.version() > prev.vm.version())) {
        prev = o;
      }
    }
    if (prev == null) {
      return Map.of();
    }
    Set<ChunkId> held = new HashSet<>();
    for (int i = 0; i < prev.table.count(); i++) {
      if (prev.mine.has(i)) {
        held.add(prev.table.id(i));
      }
    }
    Map<Integer, List<ChunkId>> plan = DeltaBases.plan(prev.vm.manifest(), vm.manifest(), held::contains);
    log.info("{}: {} chunks may come as deltas against {}", vm, plan.size(), prev.vm);
    return plan;
  }

  /** Links we offer our have-map on unasked ({@link HaveFanout#offeredTo}). */
  private boolean relevant(PeerLink link) {
    List<LinkRef> inOrder = new ArrayList<>();
    for (PeerLink l : transport.links()) {
      inOrder.add(refs.ref(l));
    }
    return HaveFanout.offeredTo(refs.ref(link), site, inOrder, cfg.crossSitePeers());
  }

  /** Makes sure we have links to the live members of our site and to seeds. */
  private void dialSite() {
    for (Member m : members.get()) {
      NodeId id = m.info().id();
      if (id.equals(self) || !m.status().isLive() || transport.link(id).isPresent() || discipline.isBanned(id, loop.now())) {
        continue;
      }
      boolean wantLink = PeerClass.of(site, m.info().site()) == PeerClass.LAN || m.info().roles().contains(Role.ROLE_SEED);
      if (wantLink && !m.info().addresses().isEmpty()) {
        try {
          transport.connect(MeshDriver.parse(m.info().addresses().get(0)));
        } catch (RuntimeException e) {
          log.debug("cannot dial {}: {}", id.shortHex(), e.toString());
        }
      }
    }
  }

  /** The one locality rule ({@link PeerClass#of}): same site is LAN, whatever the peer's role. */
  private boolean lan(PeerLink link) {
    return PeerClass.of(site, link.site()) == PeerClass.LAN;
  }

  private void offer(TransferSession s, PeerLink link) {
    if (discipline.isBanned(link.peerId(), loop.now())) {
      return;
    }
    s.sentHaveMap.add(link.peerId());
    link.sendControl(Frame.newBuilder().setHaveMap(s.advertised().toProto(s.id)).build());
  }

  void onLinkUp(PeerLink link) {
    driver.onLinkUp(link);
    if (discipline.isBanned(link.peerId(), loop.now())) {
      link.close("banned");
      return;
    }
    if (!relevant(link)) {
      return;
    }
    for (TransferSession s : sessions.values()) {
      offer(s, link);
    }
  }

  void onLinkDown(PeerLink link) {
    long now = loop.now();
    NodeId peer = link.peerId();
    // A link replaced by a newer one to the same peer (both dialled at once) can go down after the
    // newer one came up: what belongs to the peer then carries on over the newer link. (Dropping it
    // anyway left two site-mates without each other for the rest of a rollout.)
    boolean superseded = transport.link(peer).filter(l -> l != link).isPresent();
    LinkRef ref = refs.ref(link);
    refs.forget(link);
    for (TransferSession s : sessions.values()) {
      if (!superseded) {
        s.sentHaveMap.remove(peer);
      }
      TransferSession.SessionPeer p = s.peers.get(peer);
      if (p == null || !p.ref.equals(ref)) {
        continue;
      }
      s.peers.remove(peer);
      if (s.picker != null) {
        if (p.state.knownToPicker()) {
          s.picker.onPeerGone(peer, now);
        }
        updateSiteMembers(s, now); // a member membership had given up on, kept while linked
        if (p.seed && !hasSeed(s)) {
          activateReserve(s, now);
        }
      }
    }
    driver.onLinkDown(ref, superseded);
    if (superseded) {
      return; // still linked: its uploads, request account and silence go on
    }
    discipline.forget(peer);
  }

  private static boolean hasSeed(TransferSession s) {
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (p.seed && p.link.isOpen()) {
        return true;
      }
    }
    return false;
  }

  /** No seed left: other sites' agents become sources. */
  private void activateReserve(TransferSession s, long now) {
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (!p.reserve()) {
        continue;
      }
      p.state = p.state.on(SourceState.Event.NO_SEED);
      s.picker.onPeerConnected(p.link.peerId(), PeerClass.WAN, now);
      if (p.have != null) {
        try {
          cancel(s, s.picker.onHaveMap(p.link.peerId(), p.have, now));
        } catch (HaveMapException e) {
          // validated when it arrived
        }
      }
    }
    log.info("{}: no seed linked; fetching from other sites' agents", s.vm);
    requestPump(s);
  }

  /** Membership changed: refresh who in our site wants what. */
  void onMembersChanged() {
    long now = loop.now();
    for (TransferSession s : sessions.values()) {
      if (s.picker != null) {
        updateSiteMembers(s, now);
      }
    }
  }

  /** Who in our site shares the WAN fetches ({@link SiteInterest}); told to the picker. */
  private void updateSiteMembers(TransferSession s, long now) {
    Set<NodeId> wanting = SiteInterest.wanting(self, site, members.get(),
        id -> transport.link(id).filter(PeerLink::isOpen).isPresent(), s.interested,
        now - s.startedMillis, cfg, id -> discipline.isBanned(id, now));
    s.picker.onSiteMembers(wanting, now);
  }

  // ------------------------------------------------------------------ frames

  void onHaveMap(PeerLink link, io.patchmesh.proto.HaveMap proto) {
    ManifestId id = manifestIdOr(link, proto.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    if (s == null) {
      return; // we do not hold it (yet); when we do, we offer ours
    }
    long now = loop.now();
    HaveMap theirs;
    try {
      theirs = HaveMap.fromProto(proto, id, s.table.count());
    } catch (HaveMapException e) {
      offense(link, RequestGuard.Offense.MALFORMED, "bad have-map: " + e.getMessage());
      return;
    }
    LinkRef ref = refs.ref(link);
    TransferSession.SessionPeer p = s.peers.get(link.peerId());
    if (p != null && !p.ref.equals(ref)) {
      // Its have-map over a newer link, the one we knew it by replaced: start over on this one.
      s.peers.remove(link.peerId());
      if (s.picker != null && p.state.knownToPicker()) {
        s.picker.onPeerGone(link.peerId(), now);
      }
      p = null;
    }
    boolean first = p == null;
    if (first) {
      p = new TransferSession.SessionPeer(link, ref, ref.isLan(site));
      s.peers.put(link.peerId(), p);
      boolean siteAgent = p.lan && !p.seed;
      if (siteAgent) {
        s.interested.add(link.peerId());
      }
      if (!p.lan && !p.seed && hasSeed(s)) {
        p.state = p.state.on(SourceState.Event.SEED_SERVES);
      }
      if (s.picker != null && p.state.knownToPicker()) {
        s.picker.onPeerConnected(link.peerId(), ref.peerClass(site), now);
      }
      offer(s, link); // answer once per new peer: it may have ignored ours before it held the manifest
    }
    p.have = theirs;
    if (s.picker != null && p.state.knownToPicker()) {
      try {
        cancel(s, s.picker.onHaveMap(link.peerId(), theirs, now));
      } catch (HaveMapException e) {
        offense(link, RequestGuard.Offense.MALFORMED, e.getMessage());
        return;
      }
      if (first && p.lan && !p.seed) {
        updateSiteMembers(s, now);
      }
      requestPump(s);
    }
  }

  void onHave(PeerLink link, Have have) {
    ManifestId id = manifestIdOr(link, have.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    if (s == null) {
      return;
    }
    TransferSession.SessionPeer p = s.peers.get(link.peerId());
    if (p == null || have.getChunkIndexCount() > s.table.count()) {
      return;
    }
    long now = loop.now();
    for (int idx : have.getChunkIndexList()) {
      if (idx < 0 || idx >= s.table.count()) {
        offense(link, RequestGuard.Offense.MALFORMED, "Have for chunk " + idx + " outside the manifest");
        return;
      }
      if (p.have == null) {
        p.have = new HaveMap(s.table.count());
      }
      p.have.set(idx);
      if (s.picker != null && p.state.knownToPicker()) {
        try {
          cancel(s, s.picker.onHave(link.peerId(), idx, now));
        } catch (HaveMapException e) {
          offense(link, RequestGuard.Offense.MALFORMED, e.getMessage());
          return;
        }
      }
    }
    if (s.picker != null) {
      requestPump(s);
    }
  }

  void onRequest(PeerLink link, Request req) {
    if (!link.isOpen()) {
      return; // queued behind the frame that got it disconnected
    }
    ManifestId id = manifestIdOr(link, req.getManifestId());
    if (id != null) {
      driver.onRequest(link, id, req);
    }
  }

  /** What the serving core may know of our sessions. */
  private final class Held implements Serving.Held {
    @Override
    public int chunkCount(ManifestId manifest) {
      TransferSession s = sessions.get(manifest);
      return s == null ? -1 : s.table.count();
    }

    @Override
    public boolean has(ManifestId manifest, int index) {
      TransferSession s = sessions.get(manifest);
      return s != null && s.mine.has(index);
    }

    @Override
    public boolean lost(ManifestId manifest, int index) {
      TransferSession s = sessions.get(manifest);
      return s != null && s.lost.contains(index);
    }

    @Override
    public ChunkId id(ManifestId manifest, int index) {
      return sessions.get(manifest).table.id(index);
    }
  }

  /**
   * One line of what the swarm is doing, for diagnostics (loop thread): uploads active, parked and
   * queued; per fetching session what is held, the counters, and per linked peer what it claims,
   * what we have in flight with it and whether its data connection takes bytes.
   */
  String describe() {
    StringBuilder b = new StringBuilder();
    Serving serving = driver.serving();
    b.append("uploads active ").append(serving.activeCount()).append(", parked ").append(serving.parkedCount());
    serving.parkedByPeer().forEach((peer, n) -> b.append(' ').append(peer.shortHex()).append('=').append(n));
    for (TransferSession s : sessions.values()) {
      b.append("; ").append(s.vm).append(" have ").append(s.have()).append('/').append(s.table.count());
      if (s.picker == null) {
        continue;
      }
      b.append(' ').append(s.picker.counters()).append(" peers");
      s.peers.forEach((peer, p) -> b.append(' ').append(peer.shortHex())
          .append(p.seed ? "(seed" : p.lan ? "(lan" : "(wan")
          .append(p.state == SourceState.SOURCE ? "" : "," + p.state.name().toLowerCase(java.util.Locale.ROOT))
          .append(",claims ").append(p.have == null ? 0 : p.have.count())
          .append(",inflight ").append(s.picker.inFlight(peer))
          .append(",queued-here ").append(serving.queued(peer))
          .append(p.link.dataWritable() ? "" : ",unwritable").append(')'));
    }
    return b.toString();
  }

  /**
   * The store no longer holds a chunk we stored (it dropped it as corrupt on read; the serving core
   * refused the request "busy"). The chunk leaves the have-map we advertise, so peers stop counting
   * us as a source for it; stored again, it is advertised again.
   */
  private void chunkLost(ManifestId manifest, int index) {
    TransferSession s = sessions.get(manifest);
    if (s == null || !s.mine.has(index) || !s.lost.add(index)) {
      return;
    }
    log.warn("{}: chunk {} is gone from the store (corrupt on read); no longer offered to peers", s.vm, index);
    Frame haveMap = Frame.newBuilder().setHaveMap(s.advertised().toProto(s.id)).build();
    for (NodeId p : s.sentHaveMap) {
      transport.link(p).ifPresent(link -> link.sendControl(haveMap));
    }
  }

  void onCancel(PeerLink link, Cancel c) {
    driver.onCancel(link, c);
  }

  void onReject(PeerLink link, Reject r) {
    ManifestId id = manifestIdOr(link, r.getManifestId());
    TransferSession s = id == null ? null : sessions.get(id);
    if (s != null && s.picker != null) {
      if ("not-have".equals(r.getReason()) && s.picker.claims(link.peerId(), r.getChunkIndex())) {
        // Honest peers announce only what they hold and never lose it mid-session; a peer that
        // advertises a chunk and then refuses it as not held lures requests away from real sources.
        offense(link, RequestGuard.Offense.FALSE_CLAIM, "rejected chunk " + r.getChunkIndex() + " it claimed to have");
        if (!link.isOpen()) {
          return;
        }
      }
      s.picker.onReject(link.peerId(), r.getChunkIndex(), loop.now());
      requestPump(s);
    }
  }

  /** A piece arrived (on the data connection). It is hashed by the store before anything else. */
  void onPiece(PeerLink link, Piece piece) {
    if (discipline.isBanned(link.peerId(), loop.now())) {
      return; // pieces still queued on a link we just closed: not worth hashing
    }
    discipline.onPieceArrived(link.peerId());
    ManifestId id = manifestIdOr(link, piece.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    int idx = piece.getChunkIndex();
    boolean wan = !lan(link);
    int wireSize = Serving.payloadSize(piece);
    tally.received(wan, wireSize);
    if (s == null || idx < 0 || idx >= s.table.count()) {
      offense(link, RequestGuard.Offense.UNREQUESTED_PIECE, "piece for a manifest or chunk we did not ask for");
      return;
    }
    if (s.mine.has(idx) || s.storing.contains(idx)) {
      if (s.picker != null) {
        s.picker.onPiece(link.peerId(), idx, loop.now());
      }
      metrics.duplicateChunk();
      tally.duplicate(wan, wireSize);
      return;
    }
    boolean delta = piece.getEncoding() == Piece.Encoding.ENCODING_DELTA;
    List<ChunkId> baseIds = s.deltaBases.get(idx);
    if (delta && (baseIds == null || piece.getDelta().getOpsCount() > DeltaLimits.MAX_OPS)) {
      s.fullOnly.add(idx);
      corrupt(s, link, idx, baseIds == null ? "delta for a chunk we named no bases for" : "too many delta ops");
      return;
    }
    if (!delta && piece.getData().size() != s.table.size(idx)) {
      corrupt(s, link, idx, "wrong size");
      return;
    }
    s.storing.add(idx);
    ChunkId cid = s.table.id(idx);
    int size = s.table.size(idx);
    byte[] raw = delta ? null : piece.getData().toByteArray();
    Delta d = delta ? piece.getDelta() : null;
    NodeId from = link.peerId();
    loop.work(
        () -> {
          String failure = null;
          boolean full = false;
          boolean baseGone = false;
          byte[] data = raw;
          try {
            if (d != null) {
              List<byte[]> bases = new ArrayList<>(baseIds.size());
              for (ChunkId b : baseIds) {
                byte[] base = chunks.get(b); // ours, verified when stored (and on read if configured)
                if (base == null) {
                  baseGone = true;
                  base = new byte[0];
                }
                bases.add(base);
              }
              data = DeltaDecoder.decode(d, bases, size);
            }
            chunks.put(cid, data); // hashes first; throws on mismatch and stores nothing
          } catch (DeltaException e) {
            failure = "bad delta: " + e.getMessage();
          } catch (CorruptChunkException e) {
            failure = "hash mismatch" + (d != null ? " after delta" : "");
          } catch (StoreFullException e) {
            failure = e.getMessage();
            full = true;
          }
          // A base we lost (garbage-collected, corrupt on disk) is our fault, not the sender's.
          String f = failure;
          boolean isFull = full || failure != null && baseGone;
          loop.execute(() -> stored(s, link, from, idx, wireSize, f, isFull));
        });
  }

  private void stored(TransferSession s, PeerLink link, NodeId from, int idx, int size, String failure, boolean full) {
    s.storing.remove(idx);
    long now = loop.now();
    if (failure != null) {
      if (s.deltaBases.containsKey(idx)) {
        s.fullOnly.add(idx); // whoever was at fault, the next copy comes whole
      }
      if (full) {
        if (s.storeFull == null) {
          log.warn("{}: store full, fetching paused and retried every {} ms until there is room: {}", s.vm,
              cfg.storeFullRetryMillis(), failure);
          onProgress.run();
        }
        s.storeFull = failure;
        s.storeFullProbing = true;
        s.storeFullRefusedMillis = now;
        s.storeFullRetryMillis = now + cfg.storeFullRetryMillis();
        if (s.picker != null) {
          s.picker.onReject(from, idx, now);
        }
        return;
      }
      corrupt(s, link, idx, failure);
      return;
    }
    discipline.onDelivered(from);
    onChunkStored.accept(s, idx);
    if (s.picker != null) {
      PieceOutcome out = s.picker.onPiece(from, idx, now);
      cancel(s, out.cancels());
    }
    s.storeFullProbing = false;
    if (s.storeFull != null && (now - s.storeFullRefusedMillis >= cfg.storeFullClearMillis() || s.mine.isComplete())) {
      log.info("{}: the store has had room for {} ms, no longer reported full", s.vm, now - s.storeFullRefusedMillis);
      s.storeFull = null;
      onProgress.run();
    }
    if (s.lost.remove(idx)) {
      log.info("{}: chunk {} stored again; offered to peers again", s.vm, idx);
    }
    if (!s.mine.has(idx)) {
      s.mine.set(idx);
      s.haves.gained(idx);
      s.chunksFetched++;
      boolean lan = lan(link);
      boolean seed = link.roles().contains(Role.ROLE_SEED);
      if (lan) {
        s.bytesLan += size;
      } else {
        s.bytesWan += size;
      }
      metrics.chunkReceived(
          lan ? NodeMetrics.Source.LAN : seed ? NodeMetrics.Source.SEED : NodeMetrics.Source.WAN, size);
    }
    if (s.mine.isComplete() && s.picker != null) {
      s.counters = s.picker.counters();
      s.picker = null;
      flushHaves(s, true);
      log.info("{}: complete in {} ms, {} KiB over LAN, {} KiB over WAN; picker: {}", s.vm, now - s.startedMillis,
          s.bytesLan >> 10, s.bytesWan >> 10, s.counters);
      onComplete.accept(s);
      onProgress.run();
      return;
    }
    if (s.picker != null) {
      requestPump(s);
    }
  }

  private void corrupt(TransferSession s, PeerLink link, int idx, String why) {
    long now = loop.now();
    metrics.chunkVerifyFailed();
    log.warn("{}: chunk {} from {} failed verification ({})", s.vm, idx, link.peerId().shortHex(), why);
    if (s.picker != null) {
      s.picker.onCorrupt(link.peerId(), idx, now);
    }
    if (discipline.isBanned(link.peerId(), now)) {
      return; // banned already; this piece was verified on a worker before the ban
    }
    if (discipline.onCorrupt(link.peerId(), now)) {
      metrics.peerBanned();
      log.warn("banning {} for serving corrupt chunks", link.peerId().shortHex());
      link.close("banned for serving corrupt data");
    }
    if (s.picker != null) {
      requestPump(s);
    }
  }

  /**
   * A strike against {@code peer} for something only a liar does outside the swarm (manifest sync:
   * a source that stalls or trickles a download, or serves what is not the manifest it announced),
   * in the same scores as corrupt chunks: the third strike bans it and closes its link.
   */
  void charge(NodeId peer, String why) {
    long now = loop.now();
    if (discipline.isBanned(peer, now)) {
      return;
    }
    log.info("peer {}: {}", peer.shortHex(), why);
    if (discipline.onCorrupt(peer, now)) {
      metrics.peerBanned();
      log.warn("banning {}: {}", peer.shortHex(), why);
      transport.link(peer).ifPresent(l -> l.close("banned: " + why));
    }
  }

  private void offense(PeerLink link, RequestGuard.Offense o, String why) {
    if (!link.isOpen()) {
      return; // frames queued behind the one that got it disconnected
    }
    log.info("peer {}: {}", link.peerId().shortHex(), why);
    if (discipline.offense(link.peerId(), o, loop.now())) {
      log.warn("banning {}: protocol violations", link.peerId().shortHex());
      ban(link, "protocol violations");
    }
  }

  /**
   * Closes the link of a peer whose offenses reached the guard's disconnect level and bans it like a
   * corrupt-chunk server, so that neither side's redials (we dial live site members) hand it a fresh
   * account to spend again.
   */
  private void ban(PeerLink link, String why) {
    if (discipline.ban(link.peerId(), loop.now())) {
      metrics.peerBanned();
    }
    link.close(why);
  }

  private ManifestId manifestIdOr(PeerLink link, ByteString raw) {
    if (raw.size() != ManifestId.LENGTH) {
      offense(link, RequestGuard.Offense.MALFORMED, "malformed manifest id");
      return null;
    }
    return ManifestId.of(raw);
  }

  // ------------------------------------------------------------------ requests

  /**
   * Pumps soon, once for a burst of events: a pump scans the manifest per peer, and a busy loop
   * (Haves from every site peer, pieces) would otherwise repeat that scan per frame.
   */
  private void requestPump(TransferSession s) {
    if (s.pumpQueued) {
      return;
    }
    s.pumpQueued = true;
    loop.execute(
        () -> {
          s.pumpQueued = false;
          pump(s);
        });
  }

  /** Fills every peer's pipeline with what the picker chooses. */
  private void pump(TransferSession s) {
    ChunkPicker picker = s.picker;
    if (picker == null) {
      return;
    }
    long now = loop.now();
    int budget = Integer.MAX_VALUE;
    if (s.storeFullProbing) {
      if (now < s.storeFullRetryMillis) {
        return;
      }
      budget = 1; // one probe; a refusal pushes the next retry out again
      s.storeFullRetryMillis = now + cfg.storeFullRetryMillis();
    }
    for (NodeId peer : picker.peersByPreference()) {
      TransferSession.SessionPeer p = s.peers.get(peer);
      if (p == null || !p.link.isOpen() || !p.lan && now - s.startedMillis < cfg.wanStartDelayMillis()
          || !p.state.asked()) {
        continue;
      }
      int free = Math.min(Math.min(picker.freeSlots(peer), cfg.maxPipeline() - picker.inFlight(peer)), budget);
      if (free <= 0) {
        continue;
      }
      for (int idx : picker.pick(peer, free, now)) {
        budget--;
        p.link.sendControl(Frame.newBuilder().setRequest(request(s, p, idx)).build());
      }
    }
  }

  /**
   * A request; to a WAN source it names the delta bases we hold for the chunk, if any. LAN peers
   * are asked in full: their bytes are cheap, and the one WAN crossing is what deltas save.
   */
  private Request request(TransferSession s, TransferSession.SessionPeer p, int idx) {
    Request.Builder r =
        Request.newBuilder().setManifestId(s.id.toByteString()).setChunkIndex(idx).setRequestId(nextRequestId++);
    List<ChunkId> bases = p.lan || s.fullOnly.contains(idx) ? null : s.deltaBases.get(idx);
    if (bases != null) {
      for (ChunkId b : bases) {
        r.addBaseIds(b.toByteString());
      }
    }
    return r.build();
  }

  /**
   * Closes the links of peers the stalled rule gives up on ({@link PeerDiscipline#stalled}). Once per
   * tick, also with no new expiries, so a stalled peer the picker has stopped asking is still closed
   * once its silence is long enough.
   */
  private void closeStalled(long now) {
    for (PeerDiscipline.Stalled st : discipline.stalled(now)) {
      if (st.newlyBanned()) {
        metrics.peerBanned();
      }
      transport.link(st.peer()).ifPresent(l -> {
        log.warn("{} {}: {} requests timed out with no piece delivered", st.banned() ? "banning" : "disconnecting",
            st.peer().shortHex(), st.timeouts());
        l.close("stalled: " + st.timeouts() + " requests timed out with no piece delivered");
      });
    }
  }

  private void cancel(TransferSession s, List<ChunkRequest> cancels) {
    for (ChunkRequest c : cancels) {
      TransferSession.SessionPeer p = s.peers.get(c.peer());
      if (p != null) {
        p.link.sendControl(
            Frame.newBuilder()
                .setCancel(Cancel.newBuilder().setManifestId(s.id.toByteString()).setChunkIndex(c.chunk()))
                .build());
      }
    }
  }

  /** Announces new chunks as {@link HaveFanout} says: site agents now, other sites' agents if {@code wanToo}. */
  private void flushHaves(TransferSession s, boolean wanToo) {
    List<Integer> forSite = s.haves.takeForSite();
    List<Integer> forOthers = wanToo ? s.haves.takeForOtherSites() : List.of();
    Frame siteFrame = forSite.isEmpty() ? null : haveFrame(s, forSite);
    Frame othersFrame = forOthers.isEmpty() ? null : haveFrame(s, forOthers);
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (!p.link.isOpen()) {
        continue;
      }
      HaveFanout.Audience a = HaveFanout.audience(p.ref, site);
      if (a == HaveFanout.Audience.SITE && siteFrame != null) {
        p.link.sendControl(siteFrame);
      } else if (a == HaveFanout.Audience.OTHER_SITE && othersFrame != null) {
        p.link.sendControl(othersFrame);
      }
    }
  }

  private static Frame haveFrame(TransferSession s, List<Integer> indexes) {
    return Frame.newBuilder()
        .setHave(Have.newBuilder().setManifestId(s.id.toByteString()).addAllChunkIndex(indexes))
        .build();
  }

  /** Housekeeping: expire overdue requests, batch Haves, watch WAN links, refill pipelines. */
  void tick() {
    long now = loop.now();
    boolean wanHaves = now - lastWanHaveFlushMillis >= cfg.wanHaveIntervalMillis();
    if (wanHaves) {
      lastWanHaveFlushMillis = now;
    }
    boolean fetching = false;
    long sinceLastTick = lastTickMillis == Long.MIN_VALUE ? 0 : now - lastTickMillis;
    boolean paused = lastTickMillis != Long.MIN_VALUE && now - lastTickMillis >= cfg.pauseMillis();
    lastTickMillis = now;
    Map<LinkRef, Long> bytesIn = new HashMap<>();
    for (PeerLink l : transport.links()) {
      bytesIn.put(refs.ref(l), l.bytesIn());
    }
    watch.observe(bytesIn, now);
    List<TransferSession> all = new ArrayList<>(sessions.values());
    for (TransferSession s : all) {
      flushHaves(s, wanHaves);
      if (s.picker != null) {
        if (now - s.startedMillis < cfg.interestGraceMillis() + 1000) {
          updateSiteMembers(s, now);
        }
        if (paused || watchWanLinks(s, now, sinceLastTick)) {
          s.picker.onLocalPause(now);
        }
        reserveCrossSiteAgents(s, now);
        List<ChunkRequest> expired = s.picker.expire(now);
        cancel(s, expired);
        discipline.onTimeouts(expired, now);
        pump(s);
        fetching = true;
      }
    }
    if (fetching) {
      closeStalled(now);
    }
    if (fetching && now - lastDialMillis >= cfg.redialMillis()) {
      lastDialMillis = now;
      dialSite(); // a member that joined late, or a link that dropped: LAN peers are the cheap ones
    }
  }

  /**
   * Applies the {@link WanLinkWatch}'s judgement of the session's WAN peers: stops the request
   * clocks of silent ones, moves the requests of abandoned ones elsewhere and benches them, and
   * returns true if every WAN link we wait on is silent (the site's WAN is down, so site members
   * are not stalled either). A link we ask nothing of is not judged: its silence means nothing.
   */
  private boolean watchWanLinks(TransferSession s, long now, long sinceLastTick) {
    List<WanLinkWatch.WanPeer> wan = new ArrayList<>();
    for (TransferSession.SessionPeer p : s.peers.values()) {
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
      TransferSession.SessionPeer p = s.peers.get(l.peer());
      if (p != null && p.ref.equals(l)) {
        p.state = state;
      }
    });
    for (LinkRef l : j.abandon()) {
      TransferSession.SessionPeer p = s.peers.get(l.peer());
      List<ChunkRequest> owed = s.picker.abandon(l.peer(), now, cfg.linkAbandonedMillis());
      log.info("{}: link to {} ({}) silent for {} ms while others deliver; {} requests go elsewhere", s.vm,
          l.peer().shortHex(), l.site(), watch.silentMillis(l, now), owed.size());
      cancel(s, owed);
      if (p != null) {
        p.benchedAtMillis = now;
      }
    }
    return j.allSilent();
  }

  /**
   * Other sites' agents that became sources before a seed's have-map arrived join the reserve once
   * nothing is in flight with them: the rule that keeps branch uplinks for their own site should not
   * depend on which have-map came first.
   */
  private void reserveCrossSiteAgents(TransferSession s, long now) {
    if (!hasSeed(s)) {
      return;
    }
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (!p.reserve() && !p.seed && !p.lan && s.picker.inFlight(p.ref.peer()) == 0) {
        p.state = p.state.on(SourceState.Event.SEED_SERVES);
        s.picker.onPeerGone(p.ref.peer(), now);
      }
    }
  }

  /** Piece bytes received so far by link class, duplicates included (to explain WAN byte counts). */
  PieceTally pieceTally() {
    return tally.snapshot();
  }

  /** Forgets a manifest (e.g. garbage-collected). */
  void stop(ManifestId id) {
    sessions.remove(id);
  }
}
