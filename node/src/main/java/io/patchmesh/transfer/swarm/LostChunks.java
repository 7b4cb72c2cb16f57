package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.trust.ManifestId;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Chunks the store no longer holds (dropped as corrupt on read, or a delta base found gone): they
 * leave the have-map we advertise, so peers stop counting us as a source for them, and a new
 * have-map goes to every peer we had offered ours; stored again, a chunk is advertised again. Part
 * of {@link Fetching}.
 */
final class LostChunks {
  private final Map<ManifestId, ManifestSession> sessions;
  private final Function<NodeId, LinkRef> linkOf;
  private final Outbox out;

  LostChunks(Map<ManifestId, ManifestSession> sessions, Function<NodeId, LinkRef> linkOf, Outbox out) {
    this.sessions = sessions;
    this.linkOf = linkOf;
    this.out = out;
  }

  /** Chunk {@code index} of {@code manifest}, which we had stored, is gone. */
  void onChunkLost(ManifestId manifest, int index) {
    ManifestSession s = sessions.get(manifest);
    if (s == null || !s.mine.has(index) || !s.lost.add(index)) {
      return;
    }
    out.note(s.vm + ": chunk " + index + " is gone from the store (corrupt on read); no longer offered to peers");
    Frame haveMap = Frame.newBuilder().setHaveMap(s.advertised().toProto(s.id)).build();
    for (NodeId p : s.sentHaveMap) {
      LinkRef l = linkOf.apply(p);
      if (l != null) {
        out.send(l, haveMap);
      }
    }
  }

  /** A chunk the store was asked for is gone: lost in every session that held it; one we never held is ignored. */
  void onChunkMissing(ChunkId id) {
    for (ManifestSession s : List.copyOf(sessions.values())) {
      for (int i = 0; i < s.table.count(); i++) {
        if (s.table.id(i).equals(id)) {
          onChunkLost(s.id, i);
        }
      }
    }
  }
}
