package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.cluster.SeedCluster;
import io.patchmesh.seed.cluster.ZkConnectString;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Joining a seed cluster: bad connect strings, an unreachable ensemble, and another fleet's path. */
class ClusterJoinTest {
  @TempDir Path tmp;

  @Test
  void malformedConnectStringsAreRefusedNamingTheValue() {
    for (String bad : List.of("", "zk1", "zk1:", "zk1:abc", "zk1:0", "zk1:70000", "zk1:2181,", ":2181", "zk 1:2181",
        "zk1:2181/", "zk1:2181/a//b", "zk1:2181/a/../b", "zk1:2181/zookeeper")) {
      UserInputException e = assertThrows(UserInputException.class, () -> ZkConnectString.parse("--zookeeper", bad), bad);
      assertTrue(e.getMessage().startsWith("--zookeeper '" + bad + "': "), e.getMessage());
    }
    ZkConnectString ok = ZkConnectString.parse("--zookeeper", "zk1.example:2181,10.0.0.2:2182,[::1]:2183/fleet/prod");
    assertEquals(List.of("zk1.example:2181", "10.0.0.2:2182", "[::1]:2183"), ok.hosts());
    assertEquals("/fleet/prod", ok.chroot());
  }

  @Test
  void anUnreachableEnsembleFailsTheStartWithOneLine() {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      ClusterConfig cfg = ClusterConfig.of(ZkConnectString.parse("--zookeeper", "127.0.0.1:1"), false)
          .withConnectTimeout(Duration.ofSeconds(2));
      SeedCluster.JoinException e = assertThrows(SeedCluster.JoinException.class,
          () -> mesh.startSeed("seed-1", "dc", o -> o, Optional.of(cfg)));
      assertTrue(e.getMessage().contains("127.0.0.1:1 is unreachable"), e.getMessage());
      assertEquals(-1, e.getMessage().indexOf('\n'));
    }
  }

  @Test
  void aSeedOfAnotherFleetIsRefusedAndWritesNothing() throws Exception {
    try (TestingServer zk = new TestingServer(true);
        LocalMesh ours = new LocalMesh(tmp.resolve("ours"), null, true);
        LocalMesh theirs = new LocalMesh(tmp.resolve("theirs"), null, true)) {
      ClusterConfig cfg = ClusterConfig.of(ZkConnectString.parse("--zookeeper", zk.getConnectString() + "/shared"), false)
          .withSessionTimeout(Duration.ofSeconds(3));
      SeedNode first = ours.startSeed("seed-1", "dc", o -> o, Optional.of(cfg));
      SeedCluster.JoinException e = assertThrows(SeedCluster.JoinException.class,
          () -> theirs.startSeed("seed-x", "dc", o -> o, Optional.of(cfg)));
      assertTrue(e.getMessage().contains("another trust root or mesh CA"), e.getMessage());
      try (CuratorFramework c = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
        c.start();
        assertEquals(List.of(first.node().id().hex()), c.getChildren().forPath("/shared/patchmesh/seeds"),
            "only our seed registered");
        assertEquals(List.of("advisories", "cluster", "leader", "rollouts", "seeds", "tallies", "vouches"),
            c.getChildren().forPath("/shared/patchmesh").stream().sorted().toList());
        assertEquals(1, c.getChildren().forPath("/shared/patchmesh/leader").size(), "the refused seed never ran for leader");
      }
      // a seed of the same fleet joins the same path
      SeedNode second = ours.startSeed("seed-2", "dc", o -> o, Optional.of(cfg));
      assertTrue(second.cluster().orElseThrow().connected());
    }
  }
}
