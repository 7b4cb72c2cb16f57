package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A whole fleet starved in bursts, on virtual time: what 100–200 agent JVMs on two cores do
 * (bench scale, BENCHMARKS 12.17 and 12.27: load 100–145, 14,361 deaths of live members in 14
 * minutes). The machine's load comes and goes — calm stretches where every loop is a few hundred
 * ms behind, bursts where every loop and every I/O thread is 2–6 s behind at once (a wave of JVMs
 * compiling, a rollout's hashing) — and each node's share of it differs (0.5–1.5 x). A frame waits
 * at the sender (its I/O thread, {@link TestMesh.Node#outputLag}) and at the receiver (its loop,
 * {@code inputLag}); timers fire as late as the loop runs; during a burst a tenth of the frames are
 * lost (a link whose Hello timed out, a dial given up with its queue). No member fails: every death
 * is false. On main at 2026-12-05 this model gives no false death (LocalLag, 12.14, covers it): the
 * churn of 12.17 is not the lag alone.
 */
class StarvedBurstTest {
  private static final MembershipConfig AGENT = MembershipConfig.lanAgent().withDeadReclaimMillis(600_000);

  /** The load's lag at time t: calm 0.1–0.4 s for 10–40 s, then a burst of 2–6 s for 5–20 s. */
  static final class Load {
    private final SplittableRandom random;
    private final double[] share;
    private long episodeEnd;
    private long lag;

    private final long burstMin;
    private final long burstSpread;

    Load(int nodes, long seed) {
      this(nodes, seed, 2_000, 4_000);
    }

    /** Frames lost during a burst: links whose Hello timed out, dials given up, queues dropped. */
    double burstLoss;

    Load(int nodes, long seed, long burstMin, long burstSpread) {
      this.burstMin = burstMin;
      this.burstSpread = burstSpread;
      random = new SplittableRandom(seed);
      share = new double[nodes];
      for (int i = 0; i < nodes; i++) {
        share[i] = 0.5 + random.nextDouble();
      }
    }

    boolean burst;
    long bursts;
    /** Frames lost during a burst by path (a saturated WAN link), besides {@link #burstLoss}. */
    java.util.function.BiPredicate<TestMesh.Node, TestMesh.Node> crossLoss = (a, b) -> false;

    void apply(TestMesh mesh) {
      if (mesh.now >= episodeEnd) {
        burst = !burst;
        bursts++;
        lag = burst ? burstMin + random.nextLong(burstSpread) : 100 + random.nextLong(300);
        episodeEnd = mesh.now + (burst ? 5_000 + random.nextLong(15_000) : 10_000 + random.nextLong(30_000));
        SplittableRandom loss = random.split();
        double p = burst ? burstLoss : 0;
        boolean inBurst = burst;
        mesh.drop = (a, b) -> (p > 0 && loss.nextDouble() < p) || (inBurst && crossLoss.test(a, b));
      }
      for (int i = 0; i < mesh.nodes.size(); i++) {
        TestMesh.Node n = mesh.node(i);
        long l = (long) (lag * share[i] * (0.8 + 0.4 * random.nextDouble()));
        n.inputLag = l;
        n.outputLag = l / 2;
        n.timerLag = l;
      }
    }
  }

  /** Not a test: the WAN saturated in bursts too (cross-site frames queued 0.3–2 s, half the cross-site links down); {@code -Dpatchmesh.explore=true}. */
  @Test
  @EnabledIfSystemProperty(named = "patchmesh.explore", matches = "true")
  void exploreWan() {
    for (int n : new int[] {30, 100}) {
      TestMesh mesh = TestMesh.ofRoster(n, 5, AGENT, 1);
      mesh.runUntil(5_000);
      Load load = new Load(n, 1);
      SplittableRandom r = new SplittableRandom(9);
      mesh.pathDelay = (a, b) -> load.burst && !a.info.site().equals(b.info.site()) ? 300 + r.nextLong(1_700) : 0;
      // a cross-site link is down for the whole burst (closed, its re-dial's Hello timed out) for half the pairs
      load.crossLoss = (a, b) -> !a.info.site().equals(b.info.site())
          && (((a.id().hashCode() ^ b.id().hashCode()) + load.bursts * 0x9E3779B9L) & 1) == 0;
      run(mesh, load, 600_000);
      long cross = 0;
      long same = 0;
      for (TestMesh.Node o : mesh.nodes) {
        for (MemberEvent e : o.memberEvents()) {
          if (e.newState() == MemberStatus.DEAD) {
            if (e.member().info().site().equals(o.info.site())) {
              same++;
            } else {
              cross++;
            }
          }
        }
      }
      System.out.println("exploreWan: " + n + " nodes: deaths of live members " + same + " same-site, " + cross
          + " cross-site; " + suspicions(mesh) + " suspicions");
    }
  }

  static void run(TestMesh mesh, Load load, long until) {
    while (mesh.now < until) {
      load.apply(mesh);
      mesh.runUntil(Math.min(until, mesh.now + 250));
    }
  }

  static long deaths(TestMesh mesh) {
    return mesh.nodes.stream().mapToLong(n -> n.memberEvents().stream()
        .filter(e -> e.newState() == MemberStatus.DEAD).count()).sum();
  }

  static long suspicions(TestMesh mesh) {
    return mesh.nodes.stream().mapToLong(n -> n.memberEvents().stream()
        .filter(e -> e.newState() == MemberStatus.SUSPECT).count()).sum();
  }

  /** Not a test: heavier bursts and more loss, 30 and 100 nodes (BENCHMARKS 12.27); {@code -Dpatchmesh.explore=true}. */
  @Test
  @EnabledIfSystemProperty(named = "patchmesh.explore", matches = "true")
  void explore() {
    for (long[] b : new long[][] {{2_000, 4_000, 10}, {2_000, 4_000, 30}, {4_000, 8_000, 30}, {4_000, 8_000, 50}}) {
      for (int n : new int[] {30, 100}) {
        TestMesh mesh = TestMesh.ofRoster(n, 5, AGENT, 1);
        mesh.runUntil(5_000);
        Load load = new Load(n, 1, b[0], b[1]);
        load.burstLoss = b[2] / 100.0;
        run(mesh, load, 600_000);
        System.out.println("explore: bursts " + b[0] + "+" + b[1] + " ms, loss " + b[2] + " %, " + n + " nodes: " + deaths(mesh)
            + " deaths of live members, " + suspicions(mesh) + " suspicions");
      }
    }
  }

  /** 30 agents in 5 sites, settled for 5 s, then starved in bursts (a tenth of frames lost in them) until {@code millis}. */
  private record Starved(TestMesh mesh, Load load) {
    static Starved run(long seed, long millis) {
      TestMesh mesh = TestMesh.ofRoster(30, 5, AGENT, seed);
      mesh.runUntil(5_000);
      Load load = new Load(30, seed);
      load.burstLoss = 0.1;
      StarvedBurstTest.run(mesh, load, millis);
      return new Starved(mesh, load);
    }
  }

  @Test
  void aFleetStarvedInBurstsDeclaresNobodyDead() {
    long total = 0;
    for (long seed = 1; seed <= 3; seed++) {
      TestMesh mesh = Starved.run(seed, 600_000).mesh();
      System.out.println("starved in bursts, run " + seed + ": " + deaths(mesh) + " deaths of live members, "
          + suspicions(mesh) + " suspicions");
      total += deaths(mesh);
    }
    assertEquals(0, total, "deaths of live members");
  }

  /** Starved in bursts, a really dead member is still declared dead everywhere. */
  @Test
  void aFleetStarvedInBurstsStillDeclaresADeadMemberDead() {
    for (long seed = 1; seed <= 3; seed++) {
      Starved starved = Starved.run(seed, 60_000);
      TestMesh mesh = starved.mesh();
      TestMesh.Node victim = mesh.node(7);
      victim.down = true;
      long killed = mesh.now;
      run(mesh, starved.load(), killed + 300_000);
      long last = TestMesh.lastDeathAfter(mesh.others(victim), victim, killed);
      System.out.println("starved in bursts, run " + seed + ": dead member declared dead everywhere after " + last + " ms");
      assertTrue(last <= 180_000, last + " ms");
    }
  }
}
