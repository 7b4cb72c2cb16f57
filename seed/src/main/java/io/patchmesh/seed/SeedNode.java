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
  private final RolloutController controller;

  private SeedNode(NodeRuntime node, StatusBoard board, RolloutController controller) {
    this.node = node;
    this.board = board;
    this.controller = controller;
  }

  /** Starts a seed. {@code options} should come from {@link RuntimeOptions#seed}; its sink is replaced. */
  public static SeedNode start(NodeConfig config, RuntimeOptions options) {
    StatusBoard board = new StatusBoard();
    io.patchmesh.seed.exposure.SoftwareBoard software = new io.patchmesh.seed.exposure.SoftwareBoard();
    io.patchmesh.seed.exposure.SoftwareSync[] softwareSync = new io.patchmesh.seed.exposure.SoftwareSync[1];
    RuntimeOptions opts =
        new RuntimeOptions(
            options.roles(),
            options.wanEmulator(),
            options.clock(),
            options.membership(),
            options.transfer(),
            options.statusIntervalMillis(),
            (report, now) -> {
              if (board.accept(report, now) && softwareSync[0] != null) {
                softwareSync[0].onReport(report, now);
              }
            },
            options.tickMillis(),
            options.uploadSlots(),
            options.transportTuning());
    RolloutController[] controller = new RolloutController[1];
    NodeRuntime node =
        NodeRuntime.start(
            config,
            opts,
            n -> {
              controller[0] = new RolloutController(n, board);
              PublishApi publish = new PublishApi(n);
              RolloutApi rollouts = new RolloutApi(n, board, controller[0]);
              FleetApi fleet = new FleetApi(n, board, controller[0]);
              n.addRoutes(publish::addRoutes);
              n.addRoutes(rollouts::addRoutes);
              n.addRoutes(fleet::addRoutes);
              softwareSync[0] = new io.patchmesh.seed.exposure.SoftwareSync(n, software);
              n.onFrames(io.patchmesh.proto.Frame.BodyCase.INVENTORY_UPDATE, softwareSync[0]::onUpdate);
              io.patchmesh.seed.exposure.ExposureApi exposure = new io.patchmesh.seed.exposure.ExposureApi(
                  n, board, software, new io.patchmesh.seed.exposure.LocalAdvisoryStore(n.store().state()));
              n.addRoutes(exposure::addRoutes);
            });
    return new SeedNode(node, board, controller[0]);
  }

  public NodeRuntime node() {
    return node;
  }

  public StatusBoard board() {
    return board;
  }

  public RolloutController rollouts() {
    return controller;
  }

  @Override
  public void close() {
    if (controller != null) {
      controller.close();
    }
    node.close();
  }

  /** Stops like a crash: no goodbye to the mesh, links just drop (tests, benchmarks). */
  public void kill() {
    if (controller != null) {
      controller.close();
    }
    node.kill();
  }
}
