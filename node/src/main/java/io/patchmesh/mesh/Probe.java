package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;

/** The one probe in flight: a Ping sent to {@code target} that awaits an Ack (direct or relayed). */
final class Probe {
  final NodeId target;
  final long seq;
  /** Past this without an Ack, ask k others to probe (and ping directly once more). */
  final long ackTimeoutMillis;
  /** Past this without any Ack, the target is suspected. */
  final long deadlineMillis;
  boolean indirectSent;
  int expectedNacks;
  int nacks;

  Probe(NodeId target, long seq, long ackTimeoutMillis, long deadlineMillis) {
    this.target = target;
    this.seq = seq;
    this.ackTimeoutMillis = ackTimeoutMillis;
    this.deadlineMillis = deadlineMillis;
  }
}
