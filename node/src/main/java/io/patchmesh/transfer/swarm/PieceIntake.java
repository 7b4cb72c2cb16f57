package io.patchmesh.transfer.swarm;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Piece;
import io.patchmesh.transfer.PieceOutcome;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.delta.DeltaLimits;
import java.util.List;

/**
 * Pieces in: checks a received piece against what we asked for, has it stored ({@link
 * SwarmAction.StoreChunk}: the driver hashes it before the store keeps anything), and takes the
 * outcome — a stored chunk is counted, announced and may complete the session; a corrupt one gives
 * its sender a strike and is asked of someone else; a full store pauses fetching and probes one
 * chunk at a time. Part of {@link Fetching}.
 */
final class PieceIntake {
  private final Fetching core;
  private final String site;
  private final SwarmConfig cfg;
  private final PeerDiscipline discipline;
  private final Outbox out;

  PieceIntake(Fetching core, String site, SwarmConfig cfg, PeerDiscipline discipline, Outbox out) {
    this.core = core;
    this.site = site;
    this.cfg = cfg;
    this.discipline = discipline;
    this.out = out;
  }

  /** A piece arrived (on the data connection). Nothing of it is kept before the store hashed it. */
  void onPiece(LinkRef from, Piece piece, long now) {
    NodeId peer = from.peer();
    if (discipline.isBanned(peer, now)) {
      return; // pieces still queued on a link we just closed: not worth hashing
    }
    discipline.onPieceArrived(peer);
    ManifestSession s = core.sessionFor(from, piece.getManifestId(), now);
    if (s == null && piece.getManifestId().size() != io.patchmesh.trust.ManifestId.LENGTH) {
      return; // malformed: an offence recorded already
    }
    int idx = piece.getChunkIndex();
    boolean wan = !from.isLan(site);
    int wireSize = Serving.payloadSize(piece);
    if (s == null || idx < 0 || idx >= s.table.count()) {
      out.event(new SwarmEvent.PieceReceived(wan, wireSize, false));
      core.offense(from, RequestGuard.Offense.UNREQUESTED_PIECE, "piece for a manifest or chunk we did not ask for", now);
      return;
    }
    if (s.mine.has(idx) || s.storing.get(idx)) {
      if (s.picker != null) {
        s.picker.onPiece(peer, idx, now);
      }
      out.event(new SwarmEvent.PieceReceived(wan, wireSize, true));
      return;
    }
    out.event(new SwarmEvent.PieceReceived(wan, wireSize, false));
    boolean delta = piece.getEncoding() == Piece.Encoding.ENCODING_DELTA;
    List<ChunkId> baseIds = s.deltaBases.isEmpty() ? null : s.deltaBases.get(idx);
    if (delta && (baseIds == null || piece.getDelta().getOpsCount() > DeltaLimits.MAX_OPS)) {
      s.fullOnly.add(idx);
      corrupt(s, from, idx, baseIds == null ? "delta for a chunk we named no bases for" : "too many delta ops", now);
      return;
    }
    if (!delta && piece.getData().size() != s.table.size(idx)) {
      corrupt(s, from, idx, "wrong size", now);
      return;
    }
    s.storing.set(idx);
    ByteString raw = delta ? null : piece.getData();
    Delta d = delta ? piece.getDelta() : null;
    out.act(new SwarmAction.StoreChunk(from, s.id, idx, s.table.id(idx), s.table.size(idx), raw, d,
        delta ? baseIds : List.of(), wireSize));
  }

  /** The driver stored (or failed to store) what {@code what} asked for. */
  void onStored(SwarmAction.StoreChunk what, StoreResult result, long now) {
    core.counts().stored++;
    for (ChunkId gone : result.missingBases()) {
      core.onChunkMissing(gone);
    }
    ManifestSession s = core.session(what.manifest());
    if (s == null) {
      return; // stopped (garbage-collected) meanwhile
    }
    int idx = what.index();
    NodeId from = what.from().peer();
    s.storing.clear(idx);
    if (result.kind() != StoreResult.Kind.STORED) {
      if (!s.deltaBases.isEmpty() && s.deltaBases.containsKey(idx)) {
        s.fullOnly.add(idx); // whoever was at fault, the next copy comes whole
      }
      switch (result.kind()) {
        case FULL -> storeFull(s, from, idx, result.detail(), now);
        case BASE_GONE -> {
          // Our loss, not the sender's: no strike, no "store full"; asked again, in full.
          out.note(s.vm + ": chunk " + idx + " came as a delta against a base we no longer hold; asked again in full");
          if (s.picker != null) {
            s.picker.onReject(from, idx, now);
            core.pumpSoon(s);
          }
        }
        default -> corrupt(s, what.from(), idx, result.detail(), now);
      }
      return;
    }
    discipline.onDelivered(from);
    if (s.picker != null) {
      PieceOutcome o = s.picker.onPiece(from, idx, now);
      out.cancel(s, o.cancels());
    }
    s.storeFullProbing = false;
    if (s.storeFull != null && (now - s.storeFullRefusedMillis >= cfg.storeFullClearMillis() || s.mine.isComplete())) {
      out.note(s.vm + ": the store has had room for " + (now - s.storeFullRefusedMillis) + " ms, no longer reported full");
      s.storeFull = null;
      out.event(new SwarmEvent.Progress());
    }
    if (!s.lost.isEmpty() && s.lost.remove(idx)) {
      out.note(s.vm + ": chunk " + idx + " stored again; offered to peers again");
    }
    boolean fresh = !s.mine.has(idx);
    boolean lan = what.from().isLan(site);
    if (fresh) {
      s.mine.set(idx);
      s.haves.gained(idx);
      s.chunksFetched++;
      if (lan) {
        s.bytesLan += what.size();
      } else {
        s.bytesWan += what.size();
      }
    }
    out.event(new SwarmEvent.ChunkStored(s.id, idx, what.from().peerClass(site), what.from().isSeed(), what.size(), fresh));
    if (s.mine.isComplete() && s.picker != null) {
      core.completed(s, now);
      return;
    }
    if (s.picker != null) {
      core.pumpSoon(s, from); // its slot is free again
    }
  }

  private void storeFull(ManifestSession s, NodeId from, int idx, String why, long now) {
    if (s.storeFull == null) {
      out.event(new SwarmEvent.StoreFull(s.id, why));
      out.event(new SwarmEvent.Progress());
    }
    s.storeFull = why;
    s.storeFullProbing = true;
    s.storeFullRefusedMillis = now;
    s.storeFullRetryMillis = now + cfg.storeFullRetryMillis();
    if (s.picker != null) {
      s.picker.onReject(from, idx, now);
    }
  }

  private void corrupt(ManifestSession s, LinkRef from, int idx, String why, long now) {
    NodeId peer = from.peer();
    out.event(new SwarmEvent.CorruptPiece(s.id, idx, peer, why));
    if (s.picker != null) {
      s.picker.onCorrupt(peer, idx, now);
    }
    if (discipline.isBanned(peer, now)) {
      return; // banned already; this piece was verified on a worker before the ban
    }
    if (discipline.onCorrupt(peer, now)) {
      out.event(new SwarmEvent.PeerBanned(peer, "serving corrupt chunks"));
      out.act(new SwarmAction.Close(from, "banned for serving corrupt data", false));
    }
    if (s.picker != null) {
      core.pumpSoon(s);
    }
  }
}
