package io.patchmesh.mesh.sim;

/**
 * One scheduled happening, ordered by time then by scheduling order (so runs replay exactly;
 * the order counter wraps after 16M events, which only changes how same-microsecond ties break,
 * and does so identically in every run).
 */
final class SimEvent implements Comparable<SimEvent> {
  static final int DELIVER = 0;
  static final int TICK = 1;
  static final int VERIFIED = 2;

  final long atMicros;
  /** Time in the high 40 bits, scheduling order (wrapping) in the low 24: one compare. */
  final long key;
  final int kind;
  final int node;
  final int from;
  final Object payload;

  SimEvent(long atMicros, long order, int kind, int node, int from, Object payload) {
    this.atMicros = atMicros;
    this.key = (atMicros << 24) | (order & 0xFF_FFFFL);
    this.kind = kind;
    this.node = node;
    this.from = from;
    this.payload = payload;
  }

  @Override
  public int compareTo(SimEvent o) {
    return Long.compare(key, o.key);
  }
}
