package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.store.CorruptChunkException;
import io.patchmesh.store.StoreException;
import io.patchmesh.store.StoreFullException;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.HaveMapException;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.PeerScores;
import io.patchmesh.transfer.PieceOutcome;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.UploadSlots;
import io.patchmesh.transfer.delta.DeltaBases;
import io.patchmesh.transfer.delta.DeltaDecoder;
import io.patchmesh.transfer.delta.DeltaEncoder;
import io.patchmesh.transfer.delta.DeltaException;
import io.patchmesh.transfer.delta.DeltaLimits;
import io.patchmesh.proto.Delta;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayDeque;
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
 * The node's side of the swarm: have-maps, requests, pieces, uploads, for every
 * manifest it holds. The decisions (what to ask whom) are the pure {@link
 * ChunkPicker}'s; this class moves frames and bytes. Every received piece is
 * hashed by the store before it is stored, served or counted; a mismatch drops
 * it, gives its sender a strike and the chunk is asked of someone else.
 * Runs on the node loop; store reads and writes run on workers.
 */
final class Swarm {
  private static final Logger log = LoggerFactory.getLogger(Swarm.class);

  /**
   * How long after a session starts we count every live site agent as wanting the manifest, have-map
   * seen or not. Afterwards only members that showed interest (a have-map) count. Generous on
   * purpose: dropping a member that is merely slow to link up (a loaded host) makes every other
   * member fetch its share too, a duplicate across the WAN; keeping one that never wants the
   * manifest only delays its share by a site-wait.
   */
  static final long INTEREST_GRACE_MILLIS = 30_000;
  /** Other-site agents we offer our have-map to (besides seeds), so sites can feed each other. */
  static final int CROSS_SITE_PEERS = 2;
  /** Requests one peer may have queued or in service with us. */
  static final int MAX_OUTSTANDING_PER_PEER = 64;
  /** Requests a node keeps in flight to one peer at most, whatever the picker says. */
  static final int MAX_PIPELINE = 64;
  /**
   * Consecutive timed-out requests, with no piece in between, after which a peer's link is closed
   * as stalled (4: the initial pipeline, so a peer that answers none of its first requests goes after
   * one timeout). Each timeout already waited several expected arrivals (at least 5 s on the LAN, 60
   * s across the WAN), so an honest peer that delivers anything at all never gets near it. A peer
   * that never delivered a verified piece is also banned: redialled, it would claim the same chunks
   * again, and its requests would now wait out a timeout stretched by the ones it let expire. A peer
   * that did deliver before (a seed behind a WAN outage) is only disconnected.
   */
  static final int STALLED_TIMEOUTS = 4;
  /**
   * ...and the first of those timeouts is at least this old. A whole pipeline sent to a busy peer
   * expires in one burst, so the count alone closed honest peers of a CPU-starved site (seen in the
   * field bench: 15 disconnects of site-mates per agent, each one's chunks then taken over across
   * the WAN). A peer that delivers nothing for this long is stalled whatever its count.
   */
  static final long STALLED_SILENCE_MILLIS = 15_000;
  /**
   * No WAN request before a session is this old: the site's members need a moment to receive the
   * manifest and show interest (have-maps), else a member that briefly sees itself alone owns every
   * chunk and pulls the whole patch across the link its peers are about to share.
   */
  static final long WAN_START_DELAY_MILLIS = 1_000;
  /**
   * Haves to other sites' agents (and WAN-only links) are batched this long. They only steer
   * cross-site sourcing, which is rare; sent every tick they cost the scarce link ~1% of a patch.
   */
  static final long WAN_HAVE_INTERVAL_MILLIS = 2_000;
  /** While fetching, how often to make sure we are linked to every live site member. */
  static final long REDIAL_MILLIS = 5_000;
  /** A gap between ticks (every ~20 ms) this long means this node was paused, not its peers. */
  static final long PAUSE_MILLIS = 1_000;
  /**
   * After the store refused a chunk for lack of room, ask for nothing for this long, then for one
   * chunk at a time until one is stored: a full disk must not turn into an endless refetch loop.
   */
  static final long STORE_FULL_RETRY_MILLIS = 2_000;
  /**
   * The status says "store full" until no chunk was refused for this long: a disk at its limit
   * takes some chunks and refuses others (RocksDB reopens, compacts), and the status should not flap.
   */
  static final long STORE_FULL_CLEAR_MILLIS = 10_000;
  /**
   * A WAN link that received nothing at all for this long is taken to be down: the clocks of its
   * requests stop (see {@link ChunkPicker#excuseSilence}), and while every WAN link of a session is
   * down, site members are not blamed for not fetching across it either.
   */
  static final long LINK_SILENT_MILLIS = 3_000;
  /**
   * A WAN link we wait on that has been silent this long while another WAN link of the session
   * was heard from meanwhile is down for us: its requests are asked of the others, and it gets no new ones
   * until it is heard from again. (Its clocks stopped at {@link #LINK_SILENT_MILLIS}, so without
   * this the chunks it owed waited for its idle timeout: a site cut off mid-rollout held the tail
   * of another site that had been fetching from it.)
   */
  static final long LINK_ABANDONED_MILLIS = 10_000;

  /** An upload, identified by manifest and chunk (a Cancel names those two). */
  private record Upload(ManifestId manifest, int index) {}

  /** An upload granted and being read or waiting for room on the link when its Cancel came. */
  private record Granted(NodeId peer, Upload upload) {}

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
  private final UploadSlots<Upload> uploads;
  private final RequestGuard guard = new RequestGuard(RequestGuard.Config.defaults());
  private final PeerScores scores = new PeerScores(PeerScores.Config.defaults());
  /**
   * Per peer: our requests that timed out since it last delivered a piece. A peer that claims
   * chunks (have-map) and then never answers costs every requester a timeout per chunk; after
   * {@link #STALLED_TIMEOUTS} in a row with nothing delivered, the first at least
   * {@link #STALLED_SILENCE_MILLIS} ago, its link is closed.
   */
  private final Map<NodeId, Silence> silent = new HashMap<>();

  /** Timeouts of one peer since it last delivered, and when the first of them expired. */
  private static final class Silence {
    final long sinceMillis;
    int timeouts;

    Silence(long sinceMillis) {
      this.sinceMillis = sinceMillis;
    }
  }
  /** Peers that have delivered at least one verified piece (one entry per peer ever linked, like {@link #scores}). */
  private final Set<NodeId> delivered = new HashSet<>();
  private long nextRequestId = 1;
  /** Granted uploads whose requester cancelled them: not sent, so they never cross a WAN link. */
  private final Set<Granted> cancelledGrants = new HashSet<>();
  /** Bases a requester named for an upload (validated ids), until the upload completes. */
  private final Map<Granted, List<ChunkId>> uploadBases = new HashMap<>();
  /**
   * Pieces read for a peer whose data connection stopped taking bytes (a blackholed link, a peer
   * that stopped reading), in request order, each waiting for room. A parked piece gives its upload
   * slot back: held, a site cut off behind its link would keep the slots it had and win every new
   * one in turn until nobody else was served. At most {@link #maxParked} pieces in all; beyond
   * that an upload waits in its slot as before, so memory stays bounded by twice the slots.
   */
  private final Map<NodeId, ArrayDeque<Parked>> parked = new HashMap<>();
  /** Links given up as silent (see {@link #LINK_ABANDONED_MILLIS}), and when: none of our requests until heard from. */
  private final Map<PeerLink, Long> benched = new java.util.IdentityHashMap<>();
  /** Peers passed over for a full data connection, with a callback waiting for it to drain. */
  private final Set<NodeId> drainWatched = new HashSet<>();
  private int parkedCount;
  private final int maxParked;

  private record Parked(Upload upload, Frame piece) {}
  private final DeltaEncoder deltaEncoder = new DeltaEncoder();
  private long lastWanHaveFlushMillis;
  private long lastDialMillis;
  private long lastTickMillis = Long.MIN_VALUE;
  private final LinkSilence silence = new LinkSilence();
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
    this.self = self;
    this.site = site;
    this.transport = transport;
    this.loop = loop;
    this.chunks = chunks;
    this.metrics = metrics;
    this.config = config;
    this.members = members;
    this.onComplete = onComplete;
    this.onProgress = onProgress;
    this.uploads = new UploadSlots<>(uploadSlots, MAX_OUTSTANDING_PER_PEER);
    this.maxParked = uploadSlots;
    this.random = new Random(self.hashCode());
  }

  /** Called on the loop when fetching starts, so a node that was idle ticks at once. */
  void onWork(Runnable listener) {
    this.onWork = listener;
  }

  /** True while a session fetches or has Haves to send: then the node ticks at its full rate. */
  boolean busy() {
    for (TransferSession s : sessions.values()) {
      if (s.picker != null || !s.pendingHaves.isEmpty() || !s.pendingWanHaves.isEmpty()) {
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
    return scores.isBanned(peer, loop.now());
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

  /** Links we proactively send have-maps on: our site, seeds, and a couple of other sites' agents. */
  private boolean relevant(PeerLink link) {
    if (link.site().equals(site) || link.roles().contains(Role.ROLE_SEED)) {
      return true;
    }
    int crossSite = 0;
    for (PeerLink l : transport.links()) {
      if (l == link) {
        break;
      }
      if (!l.site().equals(site) && !l.roles().contains(Role.ROLE_SEED)) {
        crossSite++;
      }
    }
    return crossSite < CROSS_SITE_PEERS;
  }

  /** Makes sure we have links to the live members of our site and to seeds. */
  private void dialSite() {
    for (Member m : members.get()) {
      NodeId id = m.info().id();
      if (id.equals(self) || !m.status().isLive() || transport.link(id).isPresent() || scores.isBanned(id, loop.now())) {
        continue;
      }
      boolean wantLink = m.info().site().equals(site) || m.info().roles().contains(Role.ROLE_SEED);
      if (wantLink && !m.info().addresses().isEmpty()) {
        try {
          transport.connect(MeshDriver.parse(m.info().addresses().get(0)));
        } catch (RuntimeException e) {
          log.debug("cannot dial {}: {}", id.shortHex(), e.toString());
        }
      }
    }
  }

  private void offer(TransferSession s, PeerLink link) {
    if (scores.isBanned(link.peerId(), loop.now())) {
      return;
    }
    s.sentHaveMap.add(link.peerId());
    link.sendControl(Frame.newBuilder().setHaveMap(s.mine.toProto(s.id)).build());
  }

  void onLinkUp(PeerLink link) {
    if (scores.isBanned(link.peerId(), loop.now())) {
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
    benched.remove(link);
    for (TransferSession s : sessions.values()) {
      if (!superseded) {
        s.sentHaveMap.remove(peer);
      }
      TransferSession.SessionPeer p = s.peers.get(peer);
      if (p == null || p.link != link) {
        continue;
      }
      s.peers.remove(peer);
      if (s.picker != null) {
        if (!p.reserve) {
          s.picker.onPeerGone(peer, now);
        }
        updateSiteMembers(s, now); // a member membership had given up on, kept while linked
        if (p.seed && !hasSeed(s)) {
          activateReserve(s, now);
        }
      }
    }
    if (superseded) {
      return; // still linked: its uploads, request account and silence go on
    }
    uploads.onPeerGone(peer);
    dropParked(peer);
    drainWatched.remove(peer); // the closed link's callback never runs
    cancelledGrants.removeIf(g -> g.peer().equals(peer));
    uploadBases.keySet().removeIf(g -> g.peer().equals(peer));
    guard.forget(peer);
    silent.remove(peer);
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
      if (!p.reserve) {
        continue;
      }
      p.reserve = false;
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

  /**
   * Live for the site economy: membership says so, or we hold an open link to it. On a starved
   * host SWIM declares live members dead (probes time out); passing such a member's chunks to the
   * next rank at once would fetch them twice across the WAN. A crashed node's link closes, and a
   * wedged one's is closed by the idle timeout, so the link is the better witness while it lasts.
   */
  private boolean alive(Member m) {
    if (m.status() == MemberStatus.ALIVE || m.status() == MemberStatus.SUSPECT) {
      return true;
    }
    Optional<PeerLink> link = transport.link(m.info().id());
    return m.status() != MemberStatus.LEFT && link.isPresent() && link.get().isOpen();
  }

  private void updateSiteMembers(TransferSession s, long now) {
    Set<NodeId> wanting = new HashSet<>();
    wanting.add(self);
    boolean grace = now - s.startedMillis < INTEREST_GRACE_MILLIS;
    for (Member m : members.get()) {
      NodeId id = m.info().id();
      if (!m.info().site().equals(site)
          || !alive(m)
          || m.info().roles().contains(Role.ROLE_SEED)
          || scores.isBanned(id, now)) {
        continue;
      }
      if (s.interested.contains(id) || grace && !id.equals(self)) {
        wanting.add(id);
      }
    }
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
    TransferSession.SessionPeer p = s.peers.get(link.peerId());
    if (p != null && p.link != link) {
      // Its have-map over a newer link, the one we knew it by replaced: start over on this one.
      s.peers.remove(link.peerId());
      if (s.picker != null && !p.reserve) {
        s.picker.onPeerGone(link.peerId(), now);
      }
      p = null;
    }
    boolean first = p == null;
    if (first) {
      boolean lan = link.site().equals(site) && !link.roles().contains(Role.ROLE_SEED);
      p = new TransferSession.SessionPeer(link, lan, link.roles().contains(Role.ROLE_SEED));
      s.peers.put(link.peerId(), p);
      if (lan) {
        s.interested.add(link.peerId());
      }
      boolean crossSiteAgent = !link.site().equals(site) && !p.seed;
      p.reserve = crossSiteAgent && hasSeed(s);
      if (s.picker != null && !p.reserve) {
        s.picker.onPeerConnected(link.peerId(), lan || link.site().equals(site) ? PeerClass.LAN : PeerClass.WAN, now);
      }
      offer(s, link); // answer once per new peer: it may have ignored ours before it held the manifest
    }
    p.have = theirs;
    if (s.picker != null && !p.reserve) {
      try {
        cancel(s, s.picker.onHaveMap(link.peerId(), theirs, now));
      } catch (HaveMapException e) {
        offense(link, RequestGuard.Offense.MALFORMED, e.getMessage());
        return;
      }
      if (first && p.lan) {
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
      if (s.picker != null && !p.reserve) {
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
    long now = loop.now();
    NodeId peer = link.peerId();
    ManifestId id = manifestIdOr(link, req.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    int idx = req.getChunkIndex();
    boolean known = s != null;
    boolean have = known && idx >= 0 && idx < s.table.count() && s.mine.has(idx);
    RequestGuard.Verdict v =
        guard.onRequest(peer, known, have, outstanding(peer), MAX_OUTSTANDING_PER_PEER, now);
    if (v == RequestGuard.Verdict.DISCONNECT) {
      log.warn("banning {}: too many bad or excess requests", peer.shortHex());
      ban(link, "too many bad or excess requests");
      return;
    }
    if (v == RequestGuard.Verdict.THROTTLE || !have) {
      reject(link, req, !known ? "unknown-manifest" : !have ? "not-have" : "choked"); // wire.proto's words
      return;
    }
    Upload u = new Upload(id, idx);
    if (uploads.offer(peer, u) == UploadSlots.Admission.REJECTED_BUSY) {
      reject(link, req, "busy");
      return;
    }
    List<ChunkId> bases = baseIds(req);
    if (bases.isEmpty()) {
      uploadBases.remove(new Granted(peer, u));
    } else {
      uploadBases.put(new Granted(peer, u), bases);
    }
    serveUploads();
  }

  /** The request's base ids if well-formed and within bounds; else none (we answer in full). */
  private static List<ChunkId> baseIds(Request req) {
    if (req.getBaseIdsCount() == 0 || req.getBaseIdsCount() > DeltaLimits.MAX_BASES) {
      return List.of();
    }
    List<ChunkId> out = new ArrayList<>(req.getBaseIdsCount());
    for (ByteString b : req.getBaseIdsList()) {
      if (b.size() != ChunkId.LENGTH) {
        return List.of();
      }
      out.add(ChunkId.of(b));
    }
    return out;
  }

  private void reject(PeerLink link, Request req, String reason) {
    link.sendControl(
        Frame.newBuilder()
            .setReject(
                Reject.newBuilder()
                    .setManifestId(req.getManifestId())
                    .setChunkIndex(req.getChunkIndex())
                    .setRequestId(req.getRequestId())
                    .setReason(reason))
            .build());
  }

  /**
   * One line of what the swarm is doing, for diagnostics (loop thread): uploads active, parked and
   * queued; per fetching session what is held, the counters, and per linked peer what it claims,
   * what we have in flight with it and whether its data connection takes bytes.
   */
  String describe() {
    StringBuilder b = new StringBuilder();
    b.append("uploads active ").append(uploads.activeCount()).append(", parked ").append(parkedCount);
    parked.forEach((peer, q) -> b.append(' ').append(peer.shortHex()).append('=').append(q.size()));
    for (TransferSession s : sessions.values()) {
      b.append("; ").append(s.vm).append(" have ").append(s.have()).append('/').append(s.table.count());
      if (s.picker == null) {
        continue;
      }
      b.append(' ').append(s.picker.counters()).append(" peers");
      s.peers.forEach((peer, p) -> b.append(' ').append(peer.shortHex())
          .append(p.seed ? "(seed" : p.lan ? "(lan" : "(wan").append(p.reserve ? ",reserve" : "")
          .append(",claims ").append(p.have == null ? 0 : p.have.count())
          .append(",inflight ").append(s.picker.inFlight(peer))
          .append(",queued-here ").append(uploads.queued(peer))
          .append(p.link.dataWritable() ? "" : ",unwritable").append(')'));
    }
    return b.toString();
  }

  /** Requests of {@code peer} queued, being served or parked. */
  private int outstanding(NodeId peer) {
    ArrayDeque<Parked> q = parked.get(peer);
    return uploads.outstanding(peer) + (q == null ? 0 : q.size());
  }

  /**
   * A peer gets an upload slot only while its data connection takes bytes and nothing of it is
   * parked. One passed over for a full connection is watched: when the connection drains, serving
   * resumes. Nothing else would wake it: its requests are all queued here, so it sends no more.
   */
  private boolean readyForUpload(NodeId peer) {
    if (parked.containsKey(peer)) {
      return false; // sendParked serves on once they are sent
    }
    Optional<PeerLink> link = transport.link(peer);
    if (link.isEmpty() || link.get().dataWritable()) {
      return true;
    }
    if (drainWatched.add(peer)) {
      link.get().onDataWritable(() -> loop.execute(() -> {
        drainWatched.remove(peer);
        serveUploads();
      }));
    }
    return false;
  }

  /**
   * Starts every upload the slots grant: read on a worker, then send from the loop when the data
   * link has room, unless the requester cancelled it meanwhile (a piece in a link's queue cannot be
   * recalled, so this is the last point at which a cancel saves the WAN its bytes).
   */
  private void serveUploads() {
    for (UploadSlots.Grant<Upload> g : uploads.poll(this::readyForUpload)) {
      Optional<PeerLink> link = transport.link(g.peer());
      TransferSession s = sessions.get(g.request().manifest());
      if (link.isEmpty() || s == null) {
        uploads.complete(g.peer(), g.request());
        continue;
      }
      ChunkId cid = s.table.id(g.request().index());
      PeerLink l = link.get();
      List<ChunkId> baseIds = uploadBases.remove(new Granted(g.peer(), g.request()));
      loop.work(
          () -> {
            byte[] data;
            try {
              data = chunks.get(cid);
            } catch (StoreException e) {
              // E.g. the store stopped on a full disk: free the slot and say "busy" so the peer asks elsewhere now.
              log.debug("cannot read chunk {} for {}: {}", g.request().index(), g.peer().shortHex(), e.getMessage());
              loop.execute(() -> {
                l.sendControl(Frame.newBuilder().setReject(Reject.newBuilder()
                    .setManifestId(g.request().manifest().toByteString())
                    .setChunkIndex(g.request().index())
                    .setReason("busy")).build());
                finishUpload(g, l, null);
              });
              return;
            }
            if (data == null) {
              loop.execute(() -> finishUpload(g, l, null));
              return;
            }
            Piece.Builder pb =
                Piece.newBuilder()
                    .setManifestId(g.request().manifest().toByteString())
                    .setChunkIndex(g.request().index());
            Delta delta = baseIds == null ? null : encodeDelta(data, baseIds);
            if (delta != null) {
              pb.setEncoding(Piece.Encoding.ENCODING_DELTA).setDelta(delta);
            } else {
              // The array is ours alone (fresh from the store): wrap it rather than copy it.
              pb.setData(UnsafeByteOperations.unsafeWrap(data));
            }
            Frame piece = Frame.newBuilder().setPiece(pb).build();
            loop.execute(() -> sendWhenWritable(g, l, piece));
          });
    }
  }

  /**
   * On a worker: the chunk as a delta against the requester's bases we hold, or null when a delta
   * would not be meaningfully smaller (or we hold none of them, or they exceed the bounds).
   */
  private Delta encodeDelta(byte[] data, List<ChunkId> baseIds) {
    List<byte[]> bases = new ArrayList<>(baseIds.size());
    long total = 0;
    for (ChunkId b : baseIds) {
      byte[] base = chunks.get(b);
      if (base == null) {
        base = new byte[0]; // keeps the requester's indexes; nothing is copied from it
      }
      total += base.length;
      if (total > DeltaLimits.MAX_BASE_BYTES) {
        return null;
      }
      bases.add(base);
    }
    if (total == 0) {
      return null;
    }
    Delta d = deltaEncoder.encode(data, bases);
    return d.getSerializedSize() <= data.length * DeltaLimits.WORTHWHILE ? d : null;
  }

  /** Bytes a piece carries: the chunk, or its delta. */
  static int payloadSize(Piece p) {
    return p.getEncoding() == Piece.Encoding.ENCODING_DELTA ? p.getDelta().getSerializedSize() : p.getData().size();
  }

  /** On the loop. */
  private void sendWhenWritable(UploadSlots.Grant<Upload> g, PeerLink l, Frame piece) {
    if (cancelledGrants.remove(new Granted(g.peer(), g.request())) || !l.isOpen()) {
      finishUpload(g, l, null);
    } else if (l.dataWritable() && !parked.containsKey(g.peer())) {
      l.sendData(piece);
      finishUpload(g, l, piece);
    } else if (parkedCount < maxParked) {
      park(g, l, piece);
    } else {
      l.onDataWritable(() -> loop.execute(() -> sendWhenWritable(g, l, piece)));
    }
  }

  /** On the loop: frees the upload's slot and keeps its piece until {@code l} takes bytes again. */
  private void park(UploadSlots.Grant<Upload> g, PeerLink l, Frame piece) {
    ArrayDeque<Parked> q = parked.computeIfAbsent(g.peer(), p -> new ArrayDeque<>());
    q.addLast(new Parked(g.request(), piece));
    parkedCount++;
    if (q.size() == 1) {
      l.onDataWritable(() -> loop.execute(() -> sendParked(g.peer(), l)));
    }
    uploads.complete(g.peer(), g.request());
    serveUploads();
  }

  /** On the loop: sends what is parked for {@code peer} while {@code l} takes it, then serves on. */
  private void sendParked(NodeId peer, PeerLink l) {
    ArrayDeque<Parked> q = parked.get(peer);
    if (q == null) {
      return;
    }
    if (!l.isOpen()) {
      dropParked(peer);
      return;
    }
    while (!q.isEmpty() && l.dataWritable()) {
      Parked p = q.pollFirst();
      parkedCount--;
      l.sendData(p.piece());
      metrics.chunkServed(l.site().equals(site), payloadSize(p.piece().getPiece()));
    }
    if (q.isEmpty()) {
      parked.remove(peer);
    } else {
      l.onDataWritable(() -> loop.execute(() -> sendParked(peer, l)));
    }
    serveUploads();
  }

  private void dropParked(NodeId peer) {
    ArrayDeque<Parked> q = parked.remove(peer);
    if (q != null) {
      parkedCount -= q.size();
    }
  }

  private void finishUpload(UploadSlots.Grant<Upload> g, PeerLink l, Frame sent) {
    uploads.complete(g.peer(), g.request());
    cancelledGrants.remove(new Granted(g.peer(), g.request()));
    if (sent != null) {
      metrics.chunkServed(l.site().equals(site), payloadSize(sent.getPiece()));
    }
    serveUploads();
  }

  void onCancel(PeerLink link, Cancel c) {
    if (c.getManifestId().size() != ManifestId.LENGTH) {
      return;
    }
    NodeId peer = link.peerId();
    Upload u = new Upload(ManifestId.of(c.getManifestId()), c.getChunkIndex());
    if (unpark(peer, u)) {
      return;
    }
    if (!uploads.cancel(peer, u) && uploads.isActive(peer, u)) {
      cancelledGrants.add(new Granted(peer, u));
    } else {
      uploadBases.remove(new Granted(peer, u));
    }
  }

  /** Drops a parked piece the requester cancelled; false if none was parked. */
  private boolean unpark(NodeId peer, Upload u) {
    ArrayDeque<Parked> q = parked.get(peer);
    Parked hit = q == null ? null : q.stream().filter(p -> p.upload().equals(u)).findFirst().orElse(null);
    if (hit == null) {
      return false;
    }
    q.removeFirstOccurrence(hit);
    parkedCount--;
    if (q.isEmpty()) {
      parked.remove(peer); // its writable callback finds nothing and returns
    }
    return true;
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
    if (scores.isBanned(link.peerId(), loop.now())) {
      return; // pieces still queued on a link we just closed: not worth hashing
    }
    silent.remove(link.peerId());
    ManifestId id = manifestIdOr(link, piece.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    int idx = piece.getChunkIndex();
    boolean wan = !link.site().equals(site);
    int wireSize = payloadSize(piece);
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
              STORE_FULL_RETRY_MILLIS, failure);
          onProgress.run();
        }
        s.storeFull = failure;
        s.storeFullProbing = true;
        s.storeFullRefusedMillis = now;
        s.storeFullRetryMillis = now + STORE_FULL_RETRY_MILLIS;
        if (s.picker != null) {
          s.picker.onReject(from, idx, now);
        }
        return;
      }
      corrupt(s, link, idx, failure);
      return;
    }
    delivered.add(from);
    onChunkStored.accept(s, idx);
    if (s.picker != null) {
      PieceOutcome out = s.picker.onPiece(from, idx, now);
      cancel(s, out.cancels());
    }
    s.storeFullProbing = false;
    if (s.storeFull != null && (now - s.storeFullRefusedMillis >= STORE_FULL_CLEAR_MILLIS || s.mine.isComplete())) {
      log.info("{}: the store has had room for {} ms, no longer reported full", s.vm, now - s.storeFullRefusedMillis);
      s.storeFull = null;
      onProgress.run();
    }
    if (!s.mine.has(idx)) {
      s.mine.set(idx);
      s.pendingHaves.add(idx);
      s.chunksFetched++;
      boolean lan = link.site().equals(site);
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
    if (scores.isBanned(link.peerId(), now)) {
      return; // banned already; this piece was verified on a worker before the ban
    }
    if (scores.onCorrupt(link.peerId(), now) == PeerScores.Verdict.BANNED) {
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
    if (scores.isBanned(peer, now)) {
      return;
    }
    log.info("peer {}: {}", peer.shortHex(), why);
    if (scores.onCorrupt(peer, now) == PeerScores.Verdict.BANNED) {
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
    if (guard.record(link.peerId(), o, loop.now()) == RequestGuard.Verdict.DISCONNECT) {
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
    if (scores.ban(link.peerId(), loop.now())) {
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
      s.storeFullRetryMillis = now + STORE_FULL_RETRY_MILLIS;
    }
    for (NodeId peer : picker.peersByPreference()) {
      TransferSession.SessionPeer p = s.peers.get(peer);
      if (p == null || !p.link.isOpen() || !p.lan && now - s.startedMillis < WAN_START_DELAY_MILLIS
          || isBenched(p.link)) {
        continue;
      }
      int free = Math.min(Math.min(picker.freeSlots(peer), MAX_PIPELINE - picker.inFlight(peer)), budget);
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

  /** Counts expired requests against their peers (see {@link #closeStalled}). */
  private void countTimeouts(List<ChunkRequest> expired, long now) {
    for (ChunkRequest r : expired) {
      silent.computeIfAbsent(r.peer(), p -> new Silence(now)).timeouts++;
    }
  }

  /**
   * Closes the link of a peer that has answered nothing for too long. Once per tick (also with no
   * new expiries), so a stalled peer the picker has stopped asking is still closed once its silence
   * is long enough.
   */
  private void closeStalled(long now) {
    if (silent.isEmpty()) {
      return;
    }
    List<NodeId> stalled = new ArrayList<>();
    for (Map.Entry<NodeId, Silence> e : silent.entrySet()) {
      Silence q = e.getValue();
      if (q.timeouts >= STALLED_TIMEOUTS && now - q.sinceMillis >= STALLED_SILENCE_MILLIS) {
        stalled.add(e.getKey());
      }
    }
    for (NodeId peer : stalled) {
      int n = silent.remove(peer).timeouts;
      boolean neverDelivered = !delivered.contains(peer);
      if (neverDelivered && scores.ban(peer, now)) {
        metrics.peerBanned();
      }
      transport.link(peer).ifPresent(l -> {
        log.warn("{} {}: {} requests timed out with no piece delivered", neverDelivered ? "banning" : "disconnecting",
            peer.shortHex(), n);
        l.close("stalled: " + n + " requests timed out with no piece delivered");
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

  /**
   * Announces new chunks: every tick to site peers, every {@link #WAN_HAVE_INTERVAL_MILLIS} (or at
   * completion) to other sites' agents. Seeds hold everything and get none.
   */
  private void flushHaves(TransferSession s, boolean wanToo) {
    if (!s.pendingHaves.isEmpty()) {
      Frame f = haveFrame(s, s.pendingHaves);
      s.pendingWanHaves.addAll(s.pendingHaves);
      s.pendingHaves.clear();
      for (TransferSession.SessionPeer p : s.peers.values()) {
        if (p.link.isOpen() && p.lan) {
          p.link.sendControl(f);
        }
      }
    }
    if (wanToo && !s.pendingWanHaves.isEmpty()) {
      Frame f = haveFrame(s, s.pendingWanHaves);
      s.pendingWanHaves.clear();
      for (TransferSession.SessionPeer p : s.peers.values()) {
        if (p.link.isOpen() && !p.lan && !p.seed) {
          p.link.sendControl(f);
        }
      }
    }
  }

  private static Frame haveFrame(TransferSession s, List<Integer> indexes) {
    return Frame.newBuilder()
        .setHave(Have.newBuilder().setManifestId(s.id.toByteString()).addAllChunkIndex(indexes))
        .build();
  }

  /** Housekeeping: expire overdue requests, batch Haves, refill pipelines. */
  void tick() {
    long now = loop.now();
    boolean wanHaves = now - lastWanHaveFlushMillis >= WAN_HAVE_INTERVAL_MILLIS;
    if (wanHaves) {
      lastWanHaveFlushMillis = now;
    }
    boolean fetching = false;
    long sinceLastTick = lastTickMillis == Long.MIN_VALUE ? 0 : now - lastTickMillis;
    boolean paused = lastTickMillis != Long.MIN_VALUE && now - lastTickMillis >= PAUSE_MILLIS;
    lastTickMillis = now;
    silence.observe(transport.links(), now);
    List<TransferSession> all = new ArrayList<>(sessions.values());
    for (TransferSession s : all) {
      flushHaves(s, wanHaves);
      if (s.picker != null) {
        if (now - s.startedMillis < INTEREST_GRACE_MILLIS + 1000) {
          updateSiteMembers(s, now);
        }
        if (paused || excuseSilentWanLinks(s, now, sinceLastTick)) {
          s.picker.onLocalPause(now);
        }
        reserveCrossSiteAgents(s, now);
        List<ChunkRequest> expired = s.picker.expire(now);
        cancel(s, expired);
        countTimeouts(expired, now);
        pump(s);
        fetching = true;
      }
    }
    if (fetching) {
      closeStalled(now);
    }
    if (fetching && now - lastDialMillis >= REDIAL_MILLIS) {
      lastDialMillis = now;
      dialSite(); // a member that joined late, or a link that dropped: LAN peers are the cheap ones
    }
  }

  /**
   * Stops the request clocks of silent WAN links; true if every WAN link we wait on is silent (the
   * site's WAN is down, so site members are not stalled either). A link we ask nothing of is not
   * judged: its silence means nothing.
   */
  private boolean excuseSilentWanLinks(TransferSession s, long now, long sinceLastTick) {
    boolean waiting = false;
    boolean allSilent = true;
    List<TransferSession.SessionPeer> longSilent = new ArrayList<>();
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (p.lan || s.picker.inFlight(p.link.peerId()) == 0) {
        continue;
      }
      waiting = true;
      long silentFor = silence.silentMillis(p.link, now);
      if (silentFor >= LINK_SILENT_MILLIS) {
        s.picker.excuseSilence(p.link.peerId(), sinceLastTick);
        if (silentFor >= LINK_ABANDONED_MILLIS) {
          longSilent.add(p);
        }
      } else {
        allSilent = false;
      }
    }
    if (!longSilent.isEmpty() && wanHeardWithin(s, now, LINK_ABANDONED_MILLIS)) {
      // Another WAN link was heard from since: it is that link that is down, not our site's.
      for (TransferSession.SessionPeer p : longSilent) {
        List<ChunkRequest> owed = s.picker.abandon(p.link.peerId(), now, LINK_ABANDONED_MILLIS);
        log.info("{}: link to {} ({}) silent for {} ms while others deliver; {} requests go elsewhere", s.vm,
            p.link.peerId().shortHex(), p.link.site(), silence.silentMillis(p.link, now), owed.size());
        cancel(s, owed);
        benched.put(p.link, now);
      }
    }
    return waiting && allSilent;
  }

  /** True if some WAN peer of the session (asked for something or not) was heard from within {@code millis}. */
  private boolean wanHeardWithin(TransferSession s, long now, long millis) {
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (!p.lan && silence.silentMillis(p.link, now) < millis) {
        return true;
      }
    }
    return false;
  }

  /** True if we gave {@code link} up as silent and have not heard from it since. */
  private boolean isBenched(PeerLink link) {
    Long since = benched.get(link);
    if (since == null) {
      return false;
    }
    if (silence.heardAt(link) > since) {
      benched.remove(link);
      return false;
    }
    return true;
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
      if (!p.reserve && !p.seed && !p.link.site().equals(site) && s.picker.inFlight(p.link.peerId()) == 0) {
        p.reserve = true;
        s.picker.onPeerGone(p.link.peerId(), now);
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
