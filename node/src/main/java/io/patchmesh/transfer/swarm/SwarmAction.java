package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.Frame;
import io.patchmesh.trust.ManifestId;
import java.util.List;

/**
 * What the swarm's sans-I/O parts ask their driver to do. The driver carries each out in order and
 * reports back through the part's inputs (a read chunk, a link that drained). Only the serving
 * side ({@link Serving}) speaks this vocabulary so far; the fetching side is still in
 * {@code runtime/Swarm}.
 */
public sealed interface SwarmAction {
  /** Send {@code frame} on the link's control connection. */
  record SendControl(LinkRef to, Frame frame) implements SwarmAction {}

  /**
   * Read chunk {@code id} (on a worker), build the Piece for {@code upload} — as a delta against
   * {@code bases} we hold, if non-null and worthwhile — and hand it to {@link Serving#onChunkRead}.
   */
  record ReadChunk(LinkRef to, Upload upload, ChunkId id, List<ChunkId> bases) implements SwarmAction {}

  /** Send {@code piece} on the link's data connection ({@code payloadBytes} of chunk or delta). */
  record SendPiece(LinkRef to, Frame piece, int payloadBytes) implements SwarmAction {}

  /** Call {@link Serving#onWritable} once the link's data connection takes bytes again. */
  record Park(LinkRef to) implements SwarmAction {}

  /** Close the link; {@code ban}: the peer was banned (count it). */
  record Close(LinkRef link, String reason, boolean ban) implements SwarmAction {}

  /** The store no longer holds a chunk we stored: stop advertising it (event for the session owner). */
  record ChunkLost(ManifestId manifest, int index) implements SwarmAction {}

  /** An upload, identified by manifest and chunk (a Cancel names those two). */
  record Upload(ManifestId manifest, int index) {}
}
