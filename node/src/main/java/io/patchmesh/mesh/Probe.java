package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;

/** The one probe in flight: a Ping sent to {@code target} that awaits an Ack (direct or relayed). */
final class Probe {
  /** {@link #linkWaitUntilMillis} of a probe whose clock runs. */
  static final long CLOCK_RUNS = Long.MIN_VALUE;

  final NodeId target;
  final long seq;
  /** Past this without an Ack, ask k others to probe (and ping directly once more); while {@link #awaitsLink}, the span. */
  long ackTimeoutMillis;
  /** Past this without any Ack, the target is suspected; while {@link #awaitsLink}, the span. */
  long deadlineMillis;
  /**
   * While the Ping waits for a link to the target (the driver dials it), the clock has not started and
   * this is how long it may wait ({@link SwimProber#linkUp}); {@link #CLOCK_RUNS} once it runs.
   */
  long linkWaitUntilMillis = CLOCK_RUNS;
  /** The verdict was put off once because this node's own loop ran late ({@link LocalLag}). */
  boolean deferred;
  boolean indirectSent;
  int expectedNacks;
  /** Helpers that could not reach the target either (distinct link peers). */
  final java.util.List<NodeId> nackers = new java.util.ArrayList<>(3);
  /** The target was already suspect here: this probe checks a suspicion. */
  boolean checksSuspicion;

  Probe(NodeId target, long seq, long ackTimeoutMillis, long deadlineMillis) {
    this.target = target;
    this.seq = seq;
    this.ackTimeoutMillis = ackTimeoutMillis;
    this.deadlineMillis = deadlineMillis;
  }

  boolean awaitsLink() {
    return linkWaitUntilMillis != CLOCK_RUNS;
  }

  /**
   * Starts the clock at {@code now} (spans as at the probe's start): with {@code pingLeft} the Ack has its
   * usual time; without (the dial failed, or the link did not come in time) the direct Ping is lost and the
   * helpers are asked at once, with the indirect phase's usual time.
   */
  void startClock(long now, boolean pingLeft) {
    long ackSpan = ackTimeoutMillis;
    long span = deadlineMillis;
    linkWaitUntilMillis = CLOCK_RUNS;
    ackTimeoutMillis = pingLeft ? now + ackSpan : now;
    deadlineMillis = now + (pingLeft ? span : span - ackSpan);
  }
}
