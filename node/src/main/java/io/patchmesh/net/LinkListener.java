package io.patchmesh.net;

import io.patchmesh.proto.Frame;

/**
 * What the layers above hear from the transport. Callbacks run on Netty event
 * loops (I/O threads): they must return quickly and must never block (no disk
 * I/O, no waiting on futures or locks held across I/O). Hand slow work to an
 * executor of your own.
 *
 * <p>For one link: {@link #onLinkUp} comes before any {@link #onFrame} of that
 * link; {@link #onLinkDown} comes once, after the link is closed. Control and data
 * frames may arrive on different threads; frames of one connection arrive in
 * order. Hello and Goodbye frames are handled by the transport and not passed on.
 */
public interface LinkListener {
  default void onLinkUp(PeerLink link) {}

  void onFrame(PeerLink link, Frame frame);

  default void onLinkDown(PeerLink link, String reason) {}
}
