package io.patchmesh.transfer.swarm;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.trust.ManifestId;
import java.util.List;

/**
 * What the swarm's sans-I/O parts ask their driver to do. The driver carries each out in order and
 * reports back through the part's inputs (a read chunk, a link that drained, a stored chunk). Both
 * halves speak it: the serving core ({@link Serving}) and the fetching core ({@link Fetching}); what
 * the fetching core tells its owner besides is a {@link SwarmEvent}.
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

  /** Link to {@code peer} at {@code address} (a live site member or a seed we hold no link to). */
  record Dial(NodeId peer, String address) implements SwarmAction {}

  /**
   * Store a received piece (on a worker): decode {@code delta} against {@code bases} read from the
   * store if it is one, else take {@code data}; the store hashes it against {@code id} before it
   * keeps anything. Report the outcome to {@link Fetching#onStored}. {@code data} is the frame's
   * bytes, not copied: the driver copies them only if its store needs an array of its own (a
   * simulated store decides good or corrupt without touching them).
   */
  record StoreChunk(LinkRef from, ManifestId manifest, int index, ChunkId id, int size, ByteString data, Delta delta,
      List<ChunkId> bases, int wireBytes) implements SwarmAction {}

  /**
   * Call {@link Fetching#resume} once the inputs already queued are handled: a burst of frames
   * (Haves from every site peer, pieces) then costs one request pump, not one per frame.
   */
  record Yield() implements SwarmAction {}

  /**
   * An upload, identified by manifest and chunk (a Cancel names those two). A hash key on the
   * serving path: equals and hashCode are written out (see {@link LinkRef#hashCode}).
   */
  record Upload(ManifestId manifest, int index) {
    @Override
    public int hashCode() {
      return 31 * (manifest == null ? 0 : manifest.hashCode()) + index;
    }

    @Override
    public boolean equals(Object o) {
      return o == this || o instanceof Upload u && index == u.index && (manifest == null ? u.manifest == null : manifest.equals(u.manifest));
    }
  }
}
