package io.patchmesh.transfer.swarm;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.delta.DeltaLimits;
import io.patchmesh.transfer.swarm.SwarmAction.Upload;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The serving side of the swarm as a sans-I/O state machine: fed requests, cancels, read chunks and
 * drained links, polled for {@link SwarmAction}s. It judges each request ({@link PeerDiscipline}),
 * queues it ({@link UploadQueue}), asks for chunks to be read, and sends, parks or drops each read
 * piece. No sockets, no store, no clock of its own.
 *
 * <p>Inputs: {@link #onLinkUp}, {@link #onLinkDown}, {@link #onRequest}, {@link #onCancel}, {@link
 * #onChunkRead}, {@link #onWritable}, and with upload-yield on ({@link SwarmConfig#uploadYield}) {@link
 * #onRttSample} and {@link #onTimer}. Output: {@link #poll}. Timer: {@link #nextTimerMillis} (only
 * paced WAN requesters set one). Whether a link's data connection takes bytes is asked of the {@link
 * Links} given at construction: the driver knows (a socket's writability, a simulated send queue's
 * fill) and answers at the moment of the call.
 */
public final class Serving {
  /**
   * The reason of a Reject from a node whose uploads are off by policy (a laptop on battery, on a
   * metered link): the requester treats it as no source while the link lasts ({@link
   * io.patchmesh.transfer.ChunkPicker#onUploadsOff}), where "busy" would only back off one chunk.
   */
  public static final String UPLOADS_OFF = "uploads-off";

  /** What the node holds, as its sessions say. */
  public interface Held {
    /** Chunks in the manifest, or -1 if we hold no session for it. */
    int chunkCount(ManifestId manifest);

    /** The chunk's size as the manifest gives it (0 if unknown: upload pacing then counts it when sent). */
    default int size(ManifestId manifest, int index) {
      return 0;
    }

    /** True if we advertised the chunk (stored it verified). */
    boolean has(ManifestId manifest, int index);

    /** True if the store dropped it since (corrupt on read): refused "busy", not as unadvertised. */
    boolean lost(ManifestId manifest, int index);

    ChunkId id(ManifestId manifest, int index);
  }

  /** The driver's view of its links at the moment of a call. */
  public interface Links {
    /** True if {@code link} is still up (the newest link to its peer). */
    boolean isOpen(LinkRef link);

    /** True if the link's data connection takes bytes now. */
    boolean dataWritable(LinkRef link);
  }

  private final UploadQueue<Upload, List<ChunkId>, Frame> uploads;
  private final PeerDiscipline discipline;
  private final Held held;
  private final Links links;
  /** Per peer, the link we serve it over (the newest one that sent us a request). */
  private final Map<NodeId, LinkRef> current = new HashMap<>();
  private final List<SwarmAction> out = new ArrayList<>();
  /** upload-yield: WAN requesters passed over for their rate; no-ops when off. */
  private final UploadPacing pacing;

  /** For a node whose site is unknown here (every peer counts as WAN to upload-yield, if it is on). */
  public Serving(int slots, SwarmConfig cfg, PeerDiscipline discipline, Held held, Links links) {
    this("", slots, cfg, discipline, held, links);
  }

  /** {@code site}: our own, which tells LAN requesters (never paced) from WAN ones. */
  public Serving(String site, int slots, SwarmConfig cfg, PeerDiscipline discipline, Held held, Links links) {
    this.pacing = new UploadPacing(site, cfg.uploadYield());
    this.uploads = new UploadQueue<>(slots, cfg.maxOutstandingPerPeer());
    this.discipline = discipline;
    this.held = held;
    this.links = links;
  }

  /** The actions to carry out, in order; the list is handed over. */
  public List<SwarmAction> poll() {
    return Outbox.take(out);
  }

  /** A link came up; it is the one we serve its peer over from now on. */
  public void onLinkUp(LinkRef link) {
    current.put(link.peer(), link);
  }

  /**
   * A link went down. {@code superseded}: a newer link to the same peer is up, and what the peer
   * has with us carries on over it; otherwise all it had queued, granted or parked is dropped.
   */
  public void onLinkDown(LinkRef link, boolean superseded) {
    List<Waiting> w = waiting.remove(link); // its drain callback never runs now
    if (w != null) {
      w.forEach(x -> uploads.finish(link.peer(), x.upload()));
    }
    if (superseded) {
      LinkRef newer = current.get(link.peer());
      if (uploads.hasParked(link.peer()) && newer != null && !newer.equals(link)) {
        out.add(new SwarmAction.Park(newer)); // the old link's wake-up never runs now; pieces go on the newer one
      }
      return;
    }
    if (link.equals(current.get(link.peer()))) {
      current.remove(link.peer());
    }
    uploads.onPeerGone(link.peer());
    pacing.forget(link.peer());
  }

  /**
   * A Request. {@code manifest} is its manifest id, already checked well-formed by the caller (a
   * malformed one is a protocol offence the caller records).
   */
  public void onRequest(LinkRef from, ManifestId manifest, Request req, long now) {
    NodeId peer = from.peer();
    current.putIfAbsent(peer, from);
    int idx = req.getChunkIndex();
    int count = held.chunkCount(manifest);
    boolean known = count >= 0;
    boolean have = known && idx >= 0 && idx < count && held.has(manifest, idx);
    RequestGuard.Verdict v = discipline.onRequest(peer, known, have, uploads.outstanding(peer), now);
    if (v == RequestGuard.Verdict.DISCONNECT) {
      out.add(new SwarmAction.Close(from, "too many bad or excess requests", discipline.ban(peer, now)));
      return;
    }
    if (v == RequestGuard.Verdict.THROTTLE || !have) {
      reject(from, req.getManifestId(), idx, req.getRequestId(),
          !known ? "unknown-manifest" : !have ? "not-have" : "choked"); // wire.proto's words
      return;
    }
    List<ChunkId> bases = baseIds(req);
    Upload u = new Upload(manifest, idx);
    if (held.lost(manifest, idx) || !uploads.offer(peer, u, bases.isEmpty() ? null : bases)) {
      reject(from, req.getManifestId(), idx, req.getRequestId(), "busy");
      return;
    }
    serve(now);
  }

  /** The request's base ids if well-formed and within bounds; else none (we answer in full). */
  static List<ChunkId> baseIds(Request req) {
    if (req.getBaseIdsCount() == 0 || req.getBaseIdsCount() > DeltaLimits.MAX_BASES) {
      return List.of();
    }
    List<ChunkId> ids = new ArrayList<>(req.getBaseIdsCount());
    for (ByteString b : req.getBaseIdsList()) {
      if (b.size() != ChunkId.LENGTH) {
        return List.of();
      }
      ids.add(ChunkId.of(b));
    }
    return ids;
  }

  public void onCancel(LinkRef from, Cancel c) {
    if (c.getManifestId().size() != ManifestId.LENGTH) {
      return;
    }
    uploads.cancel(from.peer(), new Upload(ManifestId.of(c.getManifestId()), c.getChunkIndex()));
  }

  /**
   * A chunk asked for by {@link SwarmAction.ReadChunk} was read. {@code piece}: the Piece frame
   * ready to send, or null if the chunk is gone ({@code failed} false: dropped as corrupt on read)
   * or could not be read ({@code failed} true: e.g. the store stopped on a full disk). Either way the
   * requester is told "busy" so it asks elsewhere now, not after a timeout.
   */
  public void onChunkRead(LinkRef to, Upload u, Frame piece, boolean failed, long now) {
    if (piece == null) {
      reject(to, u.manifest().toByteString(), u.index(), 0, "busy");
      uploads.finish(to.peer(), u);
      pacing.onSent(to, held.size(u.manifest(), u.index()), 0, now);
      if (!failed) {
        out.add(new SwarmAction.ChunkLost(u.manifest(), u.index()));
      }
      serve(now);
      return;
    }
    pieceReady(to, u, piece, now);
  }

  private void pieceReady(LinkRef to, Upload u, Frame piece, long now) {
    UploadQueue.Ready r = uploads.onPieceReady(to.peer(), u, piece, links.isOpen(to), links.dataWritable(to));
    if (r.disposition() != UploadQueue.Disposition.WAIT) {
      int granted = held.size(u.manifest(), u.index());
      pacing.onSent(to, granted, r.disposition() == UploadQueue.Disposition.DROP ? 0 : payloadSize(piece.getPiece()), now);
    }
    switch (r.disposition()) {
      case DROP -> serve(now);
      case SEND -> {
        out.add(new SwarmAction.SendPiece(to, piece, payloadSize(piece.getPiece())));
        serve(now);
      }
      case PARK -> {
        if (r.firstParked()) {
          out.add(new SwarmAction.Park(to));
        }
        serve(now);
      }
      case WAIT -> {
        List<Waiting> w = waiting.computeIfAbsent(to, k -> new ArrayList<>());
        w.add(new Waiting(u, piece));
        if (w.size() == 1) {
          out.add(new SwarmAction.Park(to));
        }
      }
    }
  }

  /** A read piece that found the park full: it keeps its slot until the link drains. */
  private record Waiting(Upload upload, Frame piece) {}

  private final Map<LinkRef, List<Waiting>> waiting = new HashMap<>();

  /**
   * The link's data connection drained (after a {@link SwarmAction.Park}): send the next parked
   * piece if it takes bytes, retry pieces waiting in their slots, and serve on. One parked piece per
   * call, and another Park while more are parked: writability is the link's to say after each send
   * (a link that queues far past its mark is a bug the transport refuses).
   */
  public void onWritable(LinkRef link, long now) {
    NodeId peer = link.peer();
    uploads.onDrained(peer);
    List<Waiting> w = waiting.remove(link);
    if (!links.isOpen(link)) {
      uploads.dropParked(peer);
      if (w != null) {
        w.forEach(x -> uploads.finish(peer, x.upload()));
      }
      serve(now);
      return;
    }
    if (uploads.hasParked(peer) && links.dataWritable(link)) {
      Frame piece = uploads.pollParked(peer);
      out.add(new SwarmAction.SendPiece(link, piece, payloadSize(piece.getPiece())));
    }
    if (uploads.hasParked(peer)) {
      out.add(new SwarmAction.Park(link));
    }
    if (w != null) {
      w.forEach(x -> pieceReady(link, x.upload(), x.piece(), now));
    }
    serve(now);
  }

  /**
   * upload-yield: {@code link}'s data connection measures a smoothed RTT of {@code rttMillis} (> 0;
   * the driver rounds up) now. A new rate may let a paced requester go.
   */
  public void onRttSample(LinkRef link, long rttMillis, long now) {
    if (link.equals(current.get(link.peer()))) {
      pacing.onRttSample(link, rttMillis, now);
      serve(now);
    }
  }

  /** upload-yield: the links whose RTT the driver should read now (WAN requesters served lately). */
  public List<LinkRef> rttWanted(long now) {
    List<LinkRef> out = new ArrayList<>();
    for (NodeId p : pacing.rttWanted(now)) {
      LinkRef l = current.get(p);
      if (l != null) {
        out.add(l);
      }
    }
    return out;
  }

  /** When a requester passed over for its rate may be served (Long.MAX_VALUE: no timer). */
  public long nextTimerMillis() {
    return pacing.nextTimerMillis();
  }

  /** The time of {@link #nextTimerMillis} came (early or late calls are harmless). */
  public void onTimer(long now) {
    if (pacing.due(now)) {
      serve(now);
    }
  }

  /**
   * Starts every upload the slots grant; a peer passed over for a full connection is watched, one
   * passed over for its upload-yield rate gets a timer.
   */
  private void serve(long now) {
    List<UploadQueue.Grant<Upload, List<ChunkId>>> grants =
        uploads.poll(this::writable, peer -> pacing.holds(current.get(peer), now));
    for (NodeId peer : uploads.takeDrainWatches()) {
      LinkRef l = current.get(peer);
      if (l == null) {
        uploads.onDrained(peer);
      } else {
        out.add(new SwarmAction.Park(l));
      }
    }
    for (UploadQueue.Grant<Upload, List<ChunkId>> g : grants) {
      LinkRef l = current.get(g.peer());
      int count = held.chunkCount(g.upload().manifest());
      if (l == null || !links.isOpen(l) || count < 0) {
        uploads.finish(g.peer(), g.upload());
        pacing.onGranted(l, 0, now); // nothing goes (the charge of its grant is returned)
        continue;
      }
      pacing.onGranted(l, held.size(g.upload().manifest(), g.upload().index()), now);
      out.add(new SwarmAction.ReadChunk(l, g.upload(), held.id(g.upload().manifest(), g.upload().index()), g.bases()));
    }
  }

  private boolean writable(NodeId peer) {
    LinkRef l = current.get(peer);
    return l == null || links.dataWritable(l);
  }

  private void reject(LinkRef to, ByteString manifest, int idx, long requestId, String reason) {
    out.add(new SwarmAction.SendControl(to, Frame.newBuilder()
        .setReject(Reject.newBuilder().setManifestId(manifest).setChunkIndex(idx).setRequestId(requestId).setReason(reason))
        .build()));
  }

  /** Bytes a piece carries: the chunk, or its delta. */
  public static int payloadSize(Piece p) {
    return p.getEncoding() == Piece.Encoding.ENCODING_DELTA ? p.getDelta().getSerializedSize() : p.getData().size();
  }

  public int activeCount() {
    return uploads.activeCount();
  }

  public int parkedCount() {
    return uploads.parkedCount();
  }

  public Map<NodeId, Integer> parkedByPeer() {
    return uploads.parkedByPeer();
  }

  public int queued(NodeId peer) {
    return uploads.queued(peer);
  }

  /** upload-yield's state per WAN requester, for diagnostics (null if off or none). */
  public String describePacing() {
    return pacing.describe();
  }

  /** upload-yield's pacer (null when off), for tests. */
  io.patchmesh.transfer.ledbat.UploadPacer uploadPacer() {
    return pacing.pacer();
  }
}
