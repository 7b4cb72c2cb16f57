package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.trust.ManifestId;

/**
 * What the fetching core ({@link Fetching}) tells its owner happened: for the node's own bookkeeping
 * (apply, staging, status), its metrics and its log. Unlike a {@link SwarmAction} nothing on the
 * network depends on an event being handled.
 */
public sealed interface SwarmEvent {
  /** A session started fetching: a node that was idle should tick at its busy rate now. */
  record FetchStarted(ManifestId manifest) implements SwarmEvent {}

  /** Something the node reports in its status changed (a session began, completed, the store filled). */
  record Progress() implements SwarmEvent {}

  /**
   * A chunk was verified and stored. {@code fresh}: it was not held before (counted in the metrics
   * by its {@code source} class, {@code fromSeed}, {@code bytes}); a chunk the store had lost and
   * got back is not fresh.
   */
  record ChunkStored(ManifestId manifest, int index, PeerClass source, boolean fromSeed, int bytes, boolean fresh)
      implements SwarmEvent {}

  /** The session holds every chunk (or started with them all, and wants the content). */
  record SessionComplete(ManifestId manifest) implements SwarmEvent {}

  /**
   * A piece arrived ({@code bytes} of chunk or delta) over a WAN or LAN link; {@code duplicate}: its
   * chunk was held or being stored already (counted, then dropped).
   */
  record PieceReceived(boolean wan, int bytes, boolean duplicate) implements SwarmEvent {}

  /** A piece failed verification ({@code why}); its sender got a strike. */
  record CorruptPiece(ManifestId manifest, int index, NodeId from, String why) implements SwarmEvent {}

  /** {@code peer} was banned just now (count it once); its link, if any, is closed by a Close action. */
  record PeerBanned(NodeId peer, String why) implements SwarmEvent {}

  /** The store refused a chunk for lack of room, the first time since it last took chunks fine. */
  record StoreFull(ManifestId manifest, String why) implements SwarmEvent {}

  /** Worth a line in the node's log (info level); carries no decision. */
  record Note(String text) implements SwarmEvent {}
}
