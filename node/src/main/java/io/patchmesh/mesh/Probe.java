package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;

/** The one probe in flight: a Ping sent to {@code target} that awaits an Ack (direct or relayed). */
final class Probe {
  final NodeId target;
  final long seq;
  /** Past this without an Ack, ask k others to probe (and ping directly once more). */
  final long ackTimeoutMillis;
  /** Past this without any Ack, the target is suspected. */
  long deadlineMillis;
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
}
