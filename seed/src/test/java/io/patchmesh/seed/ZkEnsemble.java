package io.patchmesh.seed;

import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.cluster.ZkConnectString;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * Three real ZooKeeper servers in this JVM (curator-test), with a 250 ms tick so sessions can be
 * short (3 s) and a lost leader is replaced within seconds.
 */
final class ZkEnsemble implements AutoCloseable {
  final TestingCluster cluster;
  final List<InstanceSpec> specs = new ArrayList<>();

  ZkEnsemble(Path dir) throws Exception {
    // nine distinct ports: InstanceSpec's own pick (-1) binds port 0 and lets go of it, so two
    // servers of one ensemble were once handed the same client port by the kernel
    java.util.Set<Integer> picked = new java.util.LinkedHashSet<>();
    while (picked.size() < 9) {
      picked.add(InstanceSpec.getRandomPort());
    }
    java.util.Iterator<Integer> ports = picked.iterator();
    for (int i = 1; i <= 3; i++) {
      Path d = java.nio.file.Files.createDirectories(dir.resolve("zk-" + i));
      // data kept over a kill, so a restarted ensemble still holds the rollout records (the test's
      // temporary directory removes it)
      specs.add(new InstanceSpec(d.toFile(), ports.next(), ports.next(), ports.next(), false, i, 250, -1));
    }
    cluster = new TestingCluster(specs);
    cluster.start();
  }

  String connect() {
    return cluster.getConnectString();
  }

  /** A seed's cluster config for the servers given (all if none), 3 s sessions, tallies at most every 200 ms. */
  ClusterConfig config(InstanceSpec... only) {
    String hosts = only.length == 0 ? connect()
        : String.join(",", java.util.Arrays.stream(only).map(InstanceSpec::getConnectString).toList());
    return ClusterConfig.of(ZkConnectString.parse("--zookeeper", hosts + "/fleet"), false)
        .withSessionTimeout(Duration.ofSeconds(3))
        .withTallyInterval(Duration.ofMillis(200))
        .withConnectTimeout(Duration.ofSeconds(20));
  }

  void killAll() throws Exception {
    for (InstanceSpec s : specs) {
      cluster.killServer(s);
    }
  }

  void restartAll() throws Exception {
    for (InstanceSpec s : specs) {
      cluster.restartServer(s);
    }
  }

  @Override
  public void close() throws IOException {
    cluster.close();
  }
}
