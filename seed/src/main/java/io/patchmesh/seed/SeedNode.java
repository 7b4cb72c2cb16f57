package io.patchmesh.seed;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.RuntimeOptions;
import io.patchmesh.seed.cluster.ClusterApi;
import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.cluster.FleetFingerprint;
import io.patchmesh.seed.cluster.LocalRolloutStore;
import io.patchmesh.seed.cluster.RolloutStore;
import io.patchmesh.seed.cluster.SeedCluster;
import io.patchmesh.seed.cluster.ZkRolloutStore;
import java.util.Optional;

/**
 * A seed: a node with more roles. It is the origin of the manifests published
 * through it (it holds every chunk), it accepts bundles over the admin API,
 * and it aggregates agents' status reports into per-site rollout views. With
 * a {@link ClusterConfig} it joins a cluster of seeds that share one control
 * plane in ZooKeeper; without, it steers alone from its own store.
 */
public final class SeedNode implements AutoCloseable {
  private final NodeRuntime node;
  private final StatusBoard board;
  private final RolloutController controller;
  private final SeedCluster cluster;

  private SeedNode(NodeRuntime node, StatusBoard board, RolloutController controller, SeedCluster cluster) {
    this.node = node;
    this.board = board;
    this.controller = controller;
    this.cluster = cluster;
  }

  /** Starts a seed. {@code options} should come from {@link RuntimeOptions#seed}; its sink is replaced. */
  public static SeedNode start(NodeConfig config, RuntimeOptions options) {
    return start(config, options, Optional.empty());
  }

  /**
   * Starts a seed, in a cluster of seeds if {@code cluster} is given.
   *
   * @throws SeedCluster.JoinException when ZooKeeper is unreachable or the cluster path belongs to another fleet
   */
  public static SeedNode start(NodeConfig config, RuntimeOptions options, Optional<ClusterConfig> clusterConfig) {
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
            options.transportTuning(),
            options.swarm(),
            options.manifestFetch());
    RolloutController[] controller = new RolloutController[1];
    SeedCluster[] cluster = new SeedCluster[1];
    NodeRuntime node;
    try {
      node = NodeRuntime.start(
            config,
            opts,
            n -> {
              RolloutStore store;
              if (clusterConfig.isPresent()) {
                cluster[0] = SeedCluster.join(clusterConfig.get(), n.id().hex(), FleetFingerprint.of(n, config),
                    config.site() + " mesh " + n.transport().boundAddress(), n.options().clock());
                store = new ZkRolloutStore(cluster[0]);
                ClusterApi.registerMetrics(n, cluster[0]);
              } else {
                store = new LocalRolloutStore(n.store().state());
              }
              n.addRoutes(new ClusterApi(n, cluster[0])::addRoutes);
              controller[0] = new RolloutController(n, board, store);
              PublishApi publish = new PublishApi(n);
              RolloutApi rollouts = new RolloutApi(n, board, controller[0]);
              FleetApi fleet = new FleetApi(n, board, controller[0]);
              n.addRoutes(publish::addRoutes);
              n.addRoutes(rollouts::addRoutes);
              n.addRoutes(fleet::addRoutes);
              softwareSync[0] = new io.patchmesh.seed.exposure.SoftwareSync(n, software);
              n.onFrames(io.patchmesh.proto.Frame.BodyCase.INVENTORY_UPDATE, softwareSync[0]::onUpdate);
              // advisories live where the rollout records do: the cluster's shared state, or this seed's store
              io.patchmesh.seed.exposure.AdvisoryStore advisories = cluster[0] != null
                  ? new io.patchmesh.seed.cluster.ZkAdvisoryStore(cluster[0])
                  : new io.patchmesh.seed.exposure.LocalAdvisoryStore(n.store().state());
              io.patchmesh.seed.exposure.ExposureApi exposure = new io.patchmesh.seed.exposure.ExposureApi(
                  n, board, software, advisories);
              n.addRoutes(exposure::addRoutes);
            });
    } catch (RuntimeException e) {
      if (controller[0] != null) {
        controller[0].close(); // closes the store, and with it the cluster session
      } else if (cluster[0] != null) {
        cluster[0].close();
      }
      throw e;
    }
    if (cluster[0] != null) {
      cluster[0].describeSelf(config.site() + " mesh " + node.transport().boundAddress() + " admin " + node.adminUrl());
    }
    return new SeedNode(node, board, controller[0], cluster[0]);
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

  /** The seed cluster this seed belongs to, if it was started with one. */
  public Optional<SeedCluster> cluster() {
    return Optional.ofNullable(cluster);
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
