package io.patchmesh.tools;

import io.patchmesh.config.ConfigFile;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.runtime.RuntimeOptions;
import io.patchmesh.seed.SeedNode;
import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.cluster.SeedCluster;
import io.patchmesh.seed.cluster.ZkConnectString;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "seed",
    description = {
      "Run a seed: origin of published patches; agents report to it.",
      "With --zookeeper it joins a cluster of seeds that share rollout decisions.",
      "Runs until interrupted (SIGINT/SIGTERM leave the mesh cleanly)."
    })
final class SeedCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;
  @Mixin NodeOptions node;

  @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,HOST:PORT...][/path]",
      description = "join the seed cluster in this ZooKeeper ensemble (optional chroot path); without it the seed steers alone")
  String zookeeper;

  @Option(names = "--zookeeper-wait", description = "at start, wait for ZooKeeper instead of exiting 1 after 15 s")
  Boolean zookeeperWait;

  @Option(names = "--zookeeper-session-timeout", paramLabel = "DURATION",
      description = "ZooKeeper session timeout: how long a dead leader holds leadership (default 10s)")
  String sessionTimeout;

  @Override
  public Integer call() throws InterruptedException {
    NodeConfig cfg = node.builder().build(false);
    Optional<ClusterConfig> cluster = clusterConfig();
    SeedNode seed;
    try {
      seed = SeedNode.start(cfg, RuntimeOptions.seed(null), cluster);
    } catch (SeedCluster.JoinException e) {
      throw new CliFailure(Main.FAILURE, e.getMessage());
    }
    spec.commandLine().getErr().printf(
        "patchmesh seed %s site %s: mesh %s, admin %s (token in %s)%s%n",
        seed.node().id().shortHex(), cfg.site(), seed.node().transport().boundAddress(), seed.node().adminUrl(),
        cfg.dataDir().resolve("admin.token"),
        cluster.map(c -> ", seed cluster at ZooKeeper " + c.connect().text()).orElse(""));
    spec.commandLine().getErr().flush();
    return AgentCommand.runUntilStopped(seed);
  }

  /** Flags over the config file's keys; empty without a connect string. */
  private Optional<ClusterConfig> clusterConfig() {
    ConfigFile file = node.config != null ? ConfigFile.read(node.config) : new ConfigFile();
    String connect = zookeeper != null ? zookeeper : file.zookeeper;
    String option = zookeeper != null ? "--zookeeper" : node.config + ": zookeeper";
    boolean wait = zookeeperWait != null ? zookeeperWait : Boolean.TRUE.equals(file.zookeeperWait);
    String timeout = sessionTimeout != null ? sessionTimeout : file.zookeeperSessionTimeout;
    if (connect == null) {
      if (zookeeperWait != null || sessionTimeout != null) {
        throw new UserInputException("--zookeeper-wait and --zookeeper-session-timeout need --zookeeper");
      }
      return Optional.empty();
    }
    ClusterConfig c = ClusterConfig.of(ZkConnectString.parse(option, connect), wait);
    if (timeout != null) {
      Duration d = Units.parseDuration("--zookeeper-session-timeout", timeout);
      if (d.toMillis() < 1000 || d.toMillis() > 120_000) {
        throw new UserInputException("--zookeeper-session-timeout " + timeout + ": must be between 1s and 120s");
      }
      c = c.withSessionTimeout(d);
    }
    return Optional.of(c);
  }
}
