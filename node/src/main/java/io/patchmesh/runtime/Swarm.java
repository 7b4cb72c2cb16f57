package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
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
 * The node's side of the swarm: have-maps, requests, pieces, uploads, for every
 * manifest it holds. The decisions (what to ask whom) are the pure {@link
 * ChunkPicker}'s; this class moves frames and bytes. Every received piece is
 * hashed by the store before it is stored, served or counted; a mismatch drops
 * it, gives its sender a strike and the chunk is asked of someone else.
 * Runs on the node loop; store reads and writes run on workers.
 */
final class Swarm {
  private static final Logger log = LoggerFactory.getLogger(Swarm.class);

  /** How long after a session starts we count every live site agent as wanting the manifest. */
  static final long INTEREST_GRACE_MILLIS = 5_000;
  /** Other-site agents we offer our have-map to (besides seeds), so sites can feed each other. */
  static final int CROSS_SITE_PEERS = 2;
  /** Requests one peer may have queued or in service with us. */
  static final int MAX_OUTSTANDING_PER_PEER = 64;
  /** Requests a node keeps in flight to one peer at most, whatever the picker says. */
  static final int MAX_PIPELINE = 64;

  /** An upload, identified by manifest and chunk (a Cancel names those two). */
  private record Upload(ManifestId manifest, int index) {}

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

  private final Map<ManifestId, TransferSession> sessions = new HashMap<>();
  private final UploadSlots<Upload> uploads;
  private final RequestGuard guard = new RequestGuard(RequestGuard.Config.defaults());
  private final PeerScores scores = new PeerScores(PeerScores.Config.defaults());
  private long nextRequestId = 1;

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
    this.random = new Random(self.hashCode());
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
      updateSiteMembers(s, now);
    }
    sessions.put(vm.id(), s);
    log.info("{}: {} of {} chunks held{}", vm, mine.count(), table.count(), wanted ? "" : " (serving only)");
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
      if (id.equals(self) || !m.status().isLive() || transport.link(id).isPresent()) {
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
      link.close("banned for serving corrupt data");
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
    for (TransferSession s : sessions.values()) {
      TransferSession.SessionPeer p = s.peers.remove(peer);
      s.sentHaveMap.remove(peer);
      if (p != null && s.picker != null) {
        s.picker.onPeerGone(peer, now);
      }
    }
    uploads.onPeerGone(peer);
    guard.forget(peer);
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

  private void updateSiteMembers(TransferSession s, long now) {
    Set<NodeId> wanting = new HashSet<>();
    wanting.add(self);
    boolean grace = now - s.startedMillis < INTEREST_GRACE_MILLIS;
    for (Member m : members.get()) {
      NodeId id = m.info().id();
      if (!m.info().site().equals(site)
          || m.status() != MemberStatus.ALIVE && m.status() != MemberStatus.SUSPECT
          || m.info().roles().contains(Role.ROLE_SEED)
          || scores.isBanned(id, now)) {
        continue;
      }
      TransferSession.SessionPeer p = s.peers.get(id);
      if (p != null && p.lan || grace && !id.equals(self)) {
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
    boolean first = p == null;
    if (first) {
      boolean lan = link.site().equals(site) && !link.roles().contains(Role.ROLE_SEED);
      p = new TransferSession.SessionPeer(link, lan, link.roles().contains(Role.ROLE_SEED));
      s.peers.put(link.peerId(), p);
      if (s.picker != null) {
        s.picker.onPeerConnected(link.peerId(), lan || link.site().equals(site) ? PeerClass.LAN : PeerClass.WAN, now);
      }
      offer(s, link); // answer once per new peer: it may have ignored ours before it held the manifest
    }
    p.have = theirs;
    if (s.picker != null) {
      try {
        cancel(s, s.picker.onHaveMap(link.peerId(), theirs, now));
      } catch (HaveMapException e) {
        offense(link, RequestGuard.Offense.MALFORMED, e.getMessage());
        return;
      }
      if (first && p.lan) {
        updateSiteMembers(s, now);
      }
      pump(s);
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
      if (s.picker != null) {
        try {
          cancel(s, s.picker.onHave(link.peerId(), idx, now));
        } catch (HaveMapException e) {
          offense(link, RequestGuard.Offense.MALFORMED, e.getMessage());
          return;
        }
      }
    }
    if (s.picker != null) {
      pump(s);
    }
  }

  void onRequest(PeerLink link, Request req) {
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
        guard.onRequest(peer, known, have, uploads.outstanding(peer), MAX_OUTSTANDING_PER_PEER, now);
    if (v == RequestGuard.Verdict.DISCONNECT) {
      log.warn("disconnecting {}: too many bad or excess requests", peer.shortHex());
      link.close("too many bad or excess requests");
      return;
    }
    if (v == RequestGuard.Verdict.THROTTLE || !have) {
      reject(link, req, !known ? "unknown-manifest" : !have ? "not-have" : "throttled");
      return;
    }
    Upload u = new Upload(id, idx);
    if (uploads.offer(peer, u) == UploadSlots.Admission.REJECTED_BUSY) {
      reject(link, req, "busy");
      return;
    }
    serveUploads();
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

  /** Starts every upload the slots grant: read on a worker, send when the data link has room. */
  private void serveUploads() {
    for (UploadSlots.Grant<Upload> g : uploads.poll()) {
      Optional<PeerLink> link = transport.link(g.peer());
      TransferSession s = sessions.get(g.request().manifest());
      if (link.isEmpty() || s == null) {
        uploads.complete(g.peer(), g.request());
        continue;
      }
      ChunkId cid = s.table.id(g.request().index());
      PeerLink l = link.get();
      loop.work(
          () -> {
            byte[] data = chunks.get(cid);
            if (data == null) {
              loop.execute(() -> finishUpload(g, l, null));
              return;
            }
            Frame piece =
                Frame.newBuilder()
                    .setPiece(
                        Piece.newBuilder()
                            .setManifestId(g.request().manifest().toByteString())
                            .setChunkIndex(g.request().index())
                            .setData(ByteString.copyFrom(data)))
                    .build();
            sendWhenWritable(g, l, piece);
          });
    }
  }

  private void sendWhenWritable(UploadSlots.Grant<Upload> g, PeerLink l, Frame piece) {
    if (!l.isOpen()) {
      loop.execute(() -> finishUpload(g, l, null));
    } else if (l.dataWritable()) {
      l.sendData(piece);
      loop.execute(() -> finishUpload(g, l, piece));
    } else {
      l.onDataWritable(() -> loop.execute(() -> sendWhenWritable(g, l, piece)));
    }
  }

  private void finishUpload(UploadSlots.Grant<Upload> g, PeerLink l, Frame sent) {
    uploads.complete(g.peer(), g.request());
    if (sent != null) {
      metrics.chunkServed(l.site().equals(site), sent.getPiece().getData().size());
    }
    serveUploads();
  }

  void onCancel(PeerLink link, Cancel c) {
    if (c.getManifestId().size() != ManifestId.LENGTH) {
      return;
    }
    uploads.cancel(link.peerId(), new Upload(ManifestId.of(c.getManifestId()), c.getChunkIndex()));
  }

  void onReject(PeerLink link, Reject r) {
    ManifestId id = manifestIdOr(link, r.getManifestId());
    TransferSession s = id == null ? null : sessions.get(id);
    if (s != null && s.picker != null) {
      s.picker.onReject(link.peerId(), r.getChunkIndex(), loop.now());
      pump(s);
    }
  }

  /** A piece arrived (on the data connection). It is hashed by the store before anything else. */
  void onPiece(PeerLink link, Piece piece) {
    ManifestId id = manifestIdOr(link, piece.getManifestId());
    if (id == null) {
      return;
    }
    TransferSession s = sessions.get(id);
    int idx = piece.getChunkIndex();
    if (s == null || idx < 0 || idx >= s.table.count()) {
      offense(link, RequestGuard.Offense.UNREQUESTED_PIECE, "piece for a manifest or chunk we did not ask for");
      return;
    }
    if (s.mine.has(idx) || s.storing.contains(idx)) {
      if (s.picker != null) {
        s.picker.onPiece(link.peerId(), idx, loop.now());
      }
      metrics.duplicateChunk();
      return;
    }
    if (piece.getData().size() != s.table.size(idx)) {
      corrupt(s, link, idx, "wrong size");
      return;
    }
    s.storing.add(idx);
    ChunkId cid = s.table.id(idx);
    byte[] data = piece.getData().toByteArray();
    NodeId from = link.peerId();
    loop.work(
        () -> {
          String failure = null;
          boolean full = false;
          try {
            chunks.put(cid, data); // hashes first; throws on mismatch and stores nothing
          } catch (CorruptChunkException e) {
            failure = "hash mismatch";
          } catch (StoreFullException e) {
            failure = e.getMessage();
            full = true;
          }
          String f = failure;
          boolean isFull = full;
          loop.execute(() -> stored(s, link, from, idx, data.length, f, isFull));
        });
  }

  private void stored(TransferSession s, PeerLink link, NodeId from, int idx, int size, String failure, boolean full) {
    s.storing.remove(idx);
    long now = loop.now();
    if (failure != null) {
      if (full) {
        log.warn("{}: cannot store chunk {}: {}", s.vm, idx, failure);
        if (s.picker != null) {
          s.picker.onReject(from, idx, now);
        }
        return;
      }
      corrupt(s, link, idx, failure);
      return;
    }
    if (s.picker != null) {
      PieceOutcome out = s.picker.onPiece(from, idx, now);
      cancel(s, out.cancels());
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
      flushHaves(s);
      log.info("{}: complete in {} ms, {} KiB over LAN, {} KiB over WAN; picker: {}", s.vm, now - s.startedMillis,
          s.bytesLan >> 10, s.bytesWan >> 10, s.counters);
      onComplete.accept(s);
      onProgress.run();
      return;
    }
    if (s.picker != null) {
      pump(s);
    }
  }

  private void corrupt(TransferSession s, PeerLink link, int idx, String why) {
    long now = loop.now();
    metrics.chunkVerifyFailed();
    log.warn("{}: chunk {} from {} failed verification ({})", s.vm, idx, link.peerId().shortHex(), why);
    if (s.picker != null) {
      s.picker.onCorrupt(link.peerId(), idx, now);
    }
    if (scores.onCorrupt(link.peerId(), now) == PeerScores.Verdict.BANNED) {
      metrics.peerBanned();
      log.warn("banning {} for serving corrupt chunks", link.peerId().shortHex());
      link.close("banned for serving corrupt data");
    }
    if (s.picker != null) {
      pump(s);
    }
  }

  private void offense(PeerLink link, RequestGuard.Offense o, String why) {
    log.info("peer {}: {}", link.peerId().shortHex(), why);
    if (guard.record(link.peerId(), o, loop.now()) == RequestGuard.Verdict.DISCONNECT) {
      link.close("protocol violations");
    }
  }

  private ManifestId manifestIdOr(PeerLink link, ByteString raw) {
    if (raw.size() != ManifestId.LENGTH) {
      offense(link, RequestGuard.Offense.MALFORMED, "malformed manifest id");
      return null;
    }
    return ManifestId.of(raw);
  }

  // ------------------------------------------------------------------ requests

  /** Fills every peer's pipeline with what the picker chooses. */
  private void pump(TransferSession s) {
    ChunkPicker picker = s.picker;
    if (picker == null) {
      return;
    }
    long now = loop.now();
    for (NodeId peer : picker.peersByPreference()) {
      TransferSession.SessionPeer p = s.peers.get(peer);
      if (p == null || !p.link.isOpen()) {
        continue;
      }
      int free = Math.min(picker.freeSlots(peer), MAX_PIPELINE - picker.inFlight(peer));
      if (free <= 0) {
        continue;
      }
      for (int idx : picker.pick(peer, free, now)) {
        p.link.sendControl(
            Frame.newBuilder()
                .setRequest(
                    Request.newBuilder()
                        .setManifestId(s.id.toByteString())
                        .setChunkIndex(idx)
                        .setRequestId(nextRequestId++))
                .build());
      }
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

  private void flushHaves(TransferSession s) {
    if (s.pendingHaves.isEmpty()) {
      return;
    }
    Have.Builder have = Have.newBuilder().setManifestId(s.id.toByteString()).addAllChunkIndex(s.pendingHaves);
    s.pendingHaves.clear();
    Frame f = Frame.newBuilder().setHave(have).build();
    for (TransferSession.SessionPeer p : s.peers.values()) {
      if (p.link.isOpen() && !p.seed) {
        p.link.sendControl(f);
      }
    }
  }

  /** Housekeeping: expire overdue requests, batch Haves, refill pipelines. */
  void tick() {
    long now = loop.now();
    List<TransferSession> all = new ArrayList<>(sessions.values());
    for (TransferSession s : all) {
      flushHaves(s);
      if (s.picker != null) {
        if (now - s.startedMillis < INTEREST_GRACE_MILLIS + 1000) {
          updateSiteMembers(s, now);
        }
        cancel(s, s.picker.expire(now));
        pump(s);
      }
    }
  }

  /** Forgets a manifest (e.g. garbage-collected). */
  void stop(ManifestId id) {
    sessions.remove(id);
  }
}
