package io.patchmesh.seed.cluster;

import java.time.Duration;

/**
 * How a seed joins a cluster of seeds through ZooKeeper.
 *
 * @param connect the ensemble and chroot
 * @param waitForZooKeeper at start, wait for ZooKeeper as long as it takes instead of failing after {@code connectTimeout}
 * @param connectTimeout how long a start waits for the first connection (without {@code waitForZooKeeper})
 * @param sessionTimeout ZooKeeper session timeout: how long a dead leader holds leadership
 * @param tallyInterval a seed writes its tally of a rollout at most this often (and only when it changed)
 */
public record ClusterConfig(
    ZkConnectString connect, boolean waitForZooKeeper, Duration connectTimeout, Duration sessionTimeout, Duration tallyInterval) {

  /** Production defaults: 15 s to connect at start, 10 s sessions, tallies at most every 2 s. */
  public static ClusterConfig of(ZkConnectString connect, boolean wait) {
    return new ClusterConfig(connect, wait, Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
  }

  public ClusterConfig withSessionTimeout(Duration d) {
    return new ClusterConfig(connect, waitForZooKeeper, connectTimeout, d, tallyInterval);
  }

  public ClusterConfig withTallyInterval(Duration d) {
    return new ClusterConfig(connect, waitForZooKeeper, connectTimeout, sessionTimeout, d);
  }

  public ClusterConfig withConnectTimeout(Duration d) {
    return new ClusterConfig(connect, waitForZooKeeper, d, sessionTimeout, tallyInterval);
  }
}
