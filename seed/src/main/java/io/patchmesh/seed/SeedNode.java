package io.patchmesh.seed;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.RuntimeOptions;

/**
 * A seed: a node with more roles. It is the origin of the manifests published
 * through it (it holds every chunk), it accepts bundles over the admin API,
 * and it aggregates agents' status reports into per-site rollout views.
 */
public final class SeedNode implements AutoCloseable {
  private final NodeRuntime node;
  private final StatusBoard board;

  private SeedNode(NodeRuntime node, StatusBoard board) {
    this.node = node;
    this.board = board;
  }

  /** Starts a seed. {@code options} should come from {@link RuntimeOptions#seed}; its sink is replaced. */
  public static SeedNode start(NodeConfig config, RuntimeOptions options) {
    StatusBoard board = new StatusBoard();
    RuntimeOptions opts =
        new RuntimeOptions(
            options.roles(),
            options.wanEmulator(),
            options.clock(),
            options.membership(),
            options.transfer(),
            options.statusIntervalMillis(),
            board::accept,
            options.tickMillis(),
            options.uploadSlots());
    NodeRuntime node =
        NodeRuntime.start(
            config,
            opts,
            n -> {
              PublishApi publish = new PublishApi(n);
              RolloutApi rollouts = new RolloutApi(n, board);
              n.addRoutes(publish::addRoutes);
              n.addRoutes(rollouts::addRoutes);
            });
    return new SeedNode(node, board);
  }

  public NodeRuntime node() {
    return node;
  }

  public StatusBoard board() {
    return board;
  }

  @Override
  public void close() {
    node.close();
  }
}
