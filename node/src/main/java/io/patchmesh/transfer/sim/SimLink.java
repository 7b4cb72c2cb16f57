package io.patchmesh.transfer.sim;

import io.patchmesh.transfer.swarm.LinkRef;

/**
 * One end of a simulated link: the owner's view of its link to {@code peer}. Its data connection
 * is a bounded send queue: bytes handed to it and not yet across the bottleneck count against
 * {@link #highWaterBytes}, the way Netty's outbound buffer and the socket's send buffer do ({@link
 * SwarmSimConfig.SendBuffers}).
 */
final class SimLink {
  final SimNode owner;
  final SimNode peer;
  final LinkRef ref;
  final boolean lan;
  /** Bytes handed over and not yet across the bottleneck at which the link turns unwritable. */
  final long highWaterBytes;
  boolean open = true;
  long queuedBytes;
  /** The serving core asked to hear when the data connection drains. */
  boolean parked;
  /** Bytes (frames, for control) received on this link, for the owner's {@code WanLinkWatch}. */
  long bytesIn;
  /** The control and the data connection of this direction. */
  final Path ctrl = new Path();
  final Path data = new Path();

  /** One direction of one TCP connection: frames arrive in the order sent; a cut makes it back off. */
  static final class Path {
    private long lastArrival;
    private SwarmSimConfig.Cut cut;
    private long resumeAt;

    /** True if cut {@code c} already holds this connection. */
    boolean heldBy(SwarmSimConfig.Cut c) {
      return cut == c;
    }

    /** {@code arrival}, or later if an earlier frame on this connection arrives later (no overtaking). */
    long ordered(long arrival) {
      lastArrival = Math.max(lastArrival, arrival);
      return lastArrival;
    }

    /**
     * A frame sent at {@code sendAt} during {@code c}: the connection retransmits at sendAt + rto,
     * + 2 rto, + 4 rto ... (at most {@link SimWire#MAX_RTO_MILLIS} apart) and gets through at the
     * first retransmission after the cut heals. Frames sent later during the same cut wait behind
     * the first one's timer.
     */
    long resumeAfter(SwarmSimConfig.Cut c, long sendAt, long rtoMillis) {
      if (cut != c) {
        cut = c;
        long rto = rtoMillis;
        long t = sendAt + rto;
        while (t < c.endMillis()) {
          rto = Math.min(rto * 2, SimWire.MAX_RTO_MILLIS);
          t += rto;
        }
        resumeAt = t;
      }
      return resumeAt;
    }
  }

  SimLink(SimNode owner, SimNode peer, LinkRef ref, boolean lan, long highWaterBytes) {
    this.owner = owner;
    this.peer = peer;
    this.ref = ref;
    this.lan = lan;
    this.highWaterBytes = highWaterBytes;
  }

  boolean writable() {
    return open && queuedBytes < highWaterBytes;
  }

  /** Bytes left the queue: tell the serving core if it waits for that. */
  void drained() {
    if (parked && owner.alive && (writable() || !open)) {
      parked = false;
      owner.wake(ref);
    }
  }
}
