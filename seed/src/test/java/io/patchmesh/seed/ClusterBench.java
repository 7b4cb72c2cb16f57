package io.patchmesh.seed;

import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.SeedCluster;
import io.patchmesh.seed.cluster.StageTally;
import io.patchmesh.seed.cluster.ZkConnectString;
import io.patchmesh.seed.cluster.ZkRolloutStore;
import io.patchmesh.trust.ManifestId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * Benchmark (a main, not a test) of the seed cluster's control plane on a real three-server
 * ZooKeeper ensemble (curator-test), with simulated agents instead of a mesh:
 *
 * <ol>
 *   <li>ZooKeeper writes per second during a 1,000-agent rollout in 4 stages (1%, 10%, 50%, 100%)
 *       steered by {@code SEEDS} seeds, each tallying its share of the agents; an admitted agent
 *       applies 0-5 s after its stage opens. Each seed runs the controller's loop once a second:
 *       own tally, publish (rate-limited), and, if it leads, judge the cluster-wide sum and write the
 *       decision by compare-and-set — the same calls RolloutController makes.
 *   <li>Failover: the leader crashes (its session is dropped without closing, so its znodes live
 *       until the ensemble expires the session) while the open stage is complete; measured is the
 *       time from the crash to the next stage decision written by another seed.
 * </ol>
 *
 * <pre>java -cp ... io.patchmesh.seed.ClusterBench [seeds=2] [sessionSeconds=10] [agents=1000]</pre>
 */
public final class ClusterBench {
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(1).addStagePercent(10).addStagePercent(50)
      .addStagePercent(100).build();

  /** One simulated seed: its cluster session, store, and the agents that report to it. */
  static final class SimSeed {
    final SeedCluster cluster;
    final ZkRolloutStore store;
    final List<Integer> agents = new ArrayList<>(); // admission permille of each agent
    long decisions;

    SimSeed(SeedCluster cluster) {
      this.cluster = cluster;
      this.store = new ZkRolloutStore(cluster);
    }

    StageTally tally(int stage, long[] appliedAt, int[] agentIds, long now) {
      StageTally.Builder b = new StageTally.Builder(stage);
      int open = PLAN.getStagePercent(stage) * 10;
      for (int i = 0; i < agents.size(); i++) {
        if (agents.get(i) < open) {
          b.add("site-" + (agentIds[i] % 20), appliedAt[agentIds[i]] > 0 && appliedAt[agentIds[i]] <= now, false);
        }
      }
      return b.build();
    }

    /** RolloutController.judge in miniature. */
    Optional<RolloutRecord> tick(ManifestId id, long[] appliedAt, int[] agentIds, long now) {
      RolloutRecord r = store.createIfAbsent(id, RolloutRecord.initial()).orElse(null);
      if (r == null) {
        return Optional.empty();
      }
      StageTally own = tally(r.stage(), appliedAt, agentIds, now);
      store.publishTally(id, own);
      if (store.notSteering().isPresent()) {
        return Optional.of(r);
      }
      Optional<StageTally> total = store.clusterTally(id, own);
      if (total.isEmpty()) {
        return Optional.of(r);
      }
      RolloutRecord next = RolloutJudge.next(PLAN, r, total.get());
      if (next.sameAs(r)) {
        return Optional.of(r);
      }
      Optional<RolloutRecord> w = store.decide(id, r, next);
      if (w.isPresent()) {
        decisions++;
      }
      return Optional.of(w.orElse(r));
    }
  }

  public static void main(String[] args) throws Exception {
    int seeds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int sessionSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int agentCount = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    Path dir = Files.createTempDirectory("cluster-bench");
    List<InstanceSpec> specs = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Path d = Files.createDirectories(dir.resolve("zk-" + i));
      specs.add(new InstanceSpec(d.toFile(), -1, -1, -1, true, i, 500, -1));
    }
    try (TestingCluster zk = new TestingCluster(specs)) {
      zk.start();
      ClusterConfig cfg = ClusterConfig.of(ZkConnectString.parse("--zookeeper", zk.getConnectString() + "/bench"), false)
          .withSessionTimeout(Duration.ofSeconds(sessionSeconds));
      List<SimSeed> sim = new ArrayList<>();
      for (int s = 0; s < seeds; s++) {
        sim.add(new SimSeed(SeedCluster.join(cfg, String.format("%064x", s + 1), "sha256:bench", "seed-" + s, Clock.systemUTC())));
      }
      Random rnd = new Random(7);
      int[][] ids = new int[seeds][];
      long[] appliedAt = new long[agentCount];
      int[] admission = new int[agentCount];
      for (int a = 0; a < agentCount; a++) {
        admission[a] = rnd.nextInt(1000);
        sim.get(a % seeds).agents.add(admission[a]);
      }
      for (int s = 0; s < seeds; s++) {
        List<Integer> mine = new ArrayList<>();
        for (int a = s; a < agentCount; a += seeds) {
          mine.add(a);
        }
        ids[s] = mine.stream().mapToInt(Integer::intValue).toArray();
      }
      ManifestId id = ManifestId.fromHex("ab".repeat(32));
      long writesBefore = sim.stream().mapToLong(x -> x.cluster.writes()).sum();
      long start = System.currentTimeMillis();
      int stage = -1;
      int ticks = 0;
      while (true) {
        long now = System.currentTimeMillis();
        RolloutRecord r = null;
        for (int s = 0; s < seeds; s++) {
          r = sim.get(s).tick(id, appliedAt, ids[s], now).orElse(r);
        }
        int cur = sim.get(0).store.read(id).map(RolloutRecord::stage).orElse(0);
        if (cur != stage) {
          stage = cur;
          int open = PLAN.getStagePercent(stage) * 10;
          for (int a = 0; a < agentCount; a++) {
            if (admission[a] < open && appliedAt[a] == 0) {
              appliedAt[a] = now + rnd.nextInt(5000) + 1; // applies within 5 s of its stage opening
            }
          }
        }
        boolean done = stage == PLAN.getStagePercentCount() - 1;
        for (long t : appliedAt) {
          done &= t > 0 && t <= now;
        }
        ticks++;
        if (done) {
          break;
        }
        Thread.sleep(1000);
      }
      double secs = (System.currentTimeMillis() - start) / 1000.0;
      long writes = sim.stream().mapToLong(x -> x.cluster.writes()).sum() - writesBefore;
      System.out.printf("BENCH cluster | %d agents, %d seeds, 4 stages | rollout %.1f s, %d controller ticks | "
          + "ZooKeeper writes %d = %.2f/s (%.2f/s per seed); decisions %d%n",
          agentCount, seeds, secs, ticks, writes, writes / secs, writes / secs / seeds,
          sim.stream().mapToLong(x -> x.decisions).sum());

      // failover: a fresh rollout whose first stage is complete; the leader crashes before deciding
      ManifestId id2 = ManifestId.fromHex("cd".repeat(32));
      long[] allApplied = new long[agentCount];
      java.util.Arrays.fill(allApplied, 1);
      for (SimSeed x : sim) {
        x.store.createIfAbsent(id2, RolloutRecord.initial());
      }
      SimSeed leader = sim.stream().filter(x -> x.cluster.leads()).findFirst().orElseThrow();
      List<SimSeed> others = new ArrayList<>(sim);
      others.remove(leader);
      long now0 = System.currentTimeMillis();
      for (SimSeed x : others) {
        x.store.publishTally(id2, x.tally(0, allApplied, ids[sim.indexOf(x)], now0));
      }
      Thread.sleep(500); // the tallies reach every cache
      // crash: drop the session's connection without closing the session, then stop the client
      leader.cluster.crashForBenchmark();
      long crashed = System.nanoTime();
      long decidedAt = 0;
      while (decidedAt == 0 && System.nanoTime() - crashed < Duration.ofSeconds(sessionSeconds * 4L).toNanos()) {
        for (SimSeed x : others) {
          Optional<RolloutRecord> r = x.tick(id2, allApplied, ids[sim.indexOf(x)], System.currentTimeMillis());
          if (r.isPresent() && r.get().stage() == 1 && r.get().state() == RolloutState.State.ACTIVE) {
            decidedAt = System.nanoTime();
          }
        }
        Thread.sleep(100);
      }
      System.out.printf("BENCH cluster failover | session timeout %d s | leader crash -> next stage decision %.2f s%n",
          sessionSeconds, decidedAt == 0 ? Double.NaN : (decidedAt - crashed) / 1e9);
      for (SimSeed x : others) {
        x.cluster.close();
      }
    }
  }

  private ClusterBench() {}
}
