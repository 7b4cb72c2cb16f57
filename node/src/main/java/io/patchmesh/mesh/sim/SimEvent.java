package io.patchmesh.mesh.sim;

/** One scheduled happening, ordered by time then by scheduling order (so runs replay exactly). */
final class SimEvent implements Comparable<SimEvent> {
  static final int DELIVER = 0;
  static final int TICK = 1;
  static final int VERIFIED = 2;

  final long atMicros;
  final long order;
  final int kind;
  final int node;
  final int from;
  final Object payload;

  SimEvent(long atMicros, long order, int kind, int node, int from, Object payload) {
    this.atMicros = atMicros;
    this.order = order;
    this.kind = kind;
    this.node = node;
    this.from = from;
    this.payload = payload;
  }

  @Override
  public int compareTo(SimEvent o) {
    return atMicros != o.atMicros ? Long.compare(atMicros, o.atMicros) : Long.compare(order, o.order);
  }
}
