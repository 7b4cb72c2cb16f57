package io.patchmesh.transfer.ledbat;

import io.patchmesh.net.NodeId;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What both pacers keep per WAN peer: one {@link Ledbat} window each (its own path, its own base
 * delay), created on first use and forgotten with the peer's link, and the questions and the log
 * line they answer alike. {@link RequestPacer} (an agent's requests) and {@link UploadPacer} (a
 * seed's uploads) add what a flow holds besides its window.
 */
abstract class PeerWindows<F extends PeerWindows.Flow> {
  /** One peer's window; subclasses add their bookkeeping. */
  static class Flow {
    final Ledbat ledbat;

    Flow(LedbatConfig config) {
      ledbat = new Ledbat(config);
    }
  }

  private final LedbatConfig config;
  final Map<NodeId, F> flows = new HashMap<>();
  private final Function<LedbatConfig, F> newFlow;

  PeerWindows(LedbatConfig config, Function<LedbatConfig, F> newFlow) {
    this.config = config;
    this.newFlow = newFlow;
  }

  public final LedbatConfig config() {
    return config;
  }

  final F flow(NodeId peer) {
    return flows.computeIfAbsent(peer, p -> newFlow.apply(config));
  }

  /** The link to {@code peer} went down: its window and samples go with it (a new path may differ). */
  public final void forget(NodeId peer) {
    flows.remove(peer);
  }

  /** The peers with a window now. */
  public final Set<NodeId> peers() {
    return Set.copyOf(flows.keySet());
  }

  /** The window towards {@code peer} (the initial one if it has none yet). */
  public final long windowBytes(NodeId peer) {
    F f = flows.get(peer);
    return f == null ? config.initialWindowBytes() : f.ledbat.windowBytes();
  }

  /** The queuing delay last measured towards {@code peer} (0 before any sample). */
  public final long queuingDelayMillis(NodeId peer) {
    F f = flows.get(peer);
    return f == null ? 0 : f.ledbat.queuingDelayMillis();
  }

  /** What a flow's log entry adds after its window (e.g. " (12 in flight)"). */
  abstract String describeExtra(F flow);

  /**
   * One line per peer for the log (null if none), after {@code label}: window, what the subclass
   * adds, base and queuing delay — what an operator reads to see whether the node yields, and to whom.
   */
  final String describe(String label) {
    if (flows.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder(label);
    flows.forEach((peer, f) -> b.append(' ').append(peer.shortHex()).append(' ')
        .append(f.ledbat.describe(describeExtra(f))).append(';'));
    return b.toString();
  }
}
