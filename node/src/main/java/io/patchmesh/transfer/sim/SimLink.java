package io.patchmesh.transfer.sim;

import io.patchmesh.transfer.swarm.LinkRef;

/**
 * One end of a simulated link: the owner's view of its link to {@code peer}. Its data connection
 * is a bounded send queue: bytes handed to it and not yet across the bottleneck count against
 * {@link #HIGH_WATER_BYTES}, the way a socket's write buffer does.
 */
final class SimLink {
  /** As Netty's default write-buffer high-water mark. */
  static final long HIGH_WATER_BYTES = 64 * 1024;

  final SimNode owner;
  final SimNode peer;
  final LinkRef ref;
  final boolean lan;
  boolean open = true;
  long queuedBytes;
  /** The serving core asked to hear when the data connection drains. */
  boolean parked;

  SimLink(SimNode owner, SimNode peer, LinkRef ref, boolean lan) {
    this.owner = owner;
    this.peer = peer;
    this.ref = ref;
    this.lan = lan;
  }

  boolean writable() {
    return open && queuedBytes < HIGH_WATER_BYTES;
  }

  /** Bytes left the queue: tell the serving core if it waits for that. */
  void drained() {
    if (parked && owner.alive && (writable() || !open)) {
      parked = false;
      owner.serving.onWritable(ref);
      owner.act();
    }
  }
}
