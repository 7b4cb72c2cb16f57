package io.patchmesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: the figures behind the agents' Lifeguard k (BENCHMARKS 6.3), on virtual time. Runs
 * only with {@code -Dpatchmesh.explore=true}; {@code -Dpatchmesh.explore.k=0,1,2,3} and
 * {@code -Dpatchmesh.explore.runs=100} choose the agents' k values and the random seeds per value.
 * For each k: MixedFleetDetectionTest's fleet with an agent killed (detection at every live node),
 * the same fleet with a liar adding "X is dead" to every frame, and agent fleets whose loops are
 * starved (StarvedLoopTest's shapes on {@code lanAgent}); deaths of live members counted.
 */
@EnabledIfSystemProperty(named = "patchmesh.explore", matches = "true")
class LifeguardExploration {
  @Test
  void explore() {
    int runs = Integer.getInteger("patchmesh.explore.runs", 100);
    for (String kText : System.getProperty("patchmesh.explore.k", "0,1,2,3").split(",")) {
      int k = Integer.parseInt(kText.trim());
      MembershipConfig agent = MembershipConfig.lanAgent().withSuspicionConfirmations(k);
      List<Long> all = new ArrayList<>();
      List<Long> atSeed = new ArrayList<>();
      int liarRuns = 0;
      int liarDeaths = 0;
      int starvedDeaths = 0;
      int jumpyDeaths = 0;
      long worstRun = -1;
      long worstRunMillis = -1;
      long worstRunSuspect = -1;
      for (long seed = 1; seed <= runs; seed++) {
        TestMesh mesh = MixedFleetDetectionTest.fleet(seed, agent);
        mesh.runUntil(20_000);
        TestMesh.Node victim = mesh.node(6);
        victim.down = true;
        long killed = mesh.now;
        mesh.runUntil(killed + 120_000);
        for (TestMesh.Node o : mesh.others(victim)) {
          long at = o.deadAt(victim);
          all.add(at < 0 ? Long.MAX_VALUE : at - killed);
        }
        atSeed.add(mesh.node(0).deadAt(victim) < 0 ? Long.MAX_VALUE : mesh.node(0).deadAt(victim) - killed);
        for (TestMesh.Node o : mesh.others(victim)) {
          long at = o.deadAt(victim) - killed;
          if (at > worstRunMillis) {
            worstRunMillis = at;
            worstRun = seed;
            worstRunSuspect = (MixedFleetDetectionTest.firstSuspicion(o, victim) - killed) * (o == mesh.node(0) ? -1 : 1);
          }
        }

        TestMesh lied = MixedFleetDetectionTest.fleet(seed, agent);
        lied.runUntil(10_000);
        TestMesh.Node liar = lied.node(3);
        TestMesh.Node accused = lied.node(8);
        lied.filter = (from, to, frame) -> from != liar ? frame : MixedFleetDetectionTest.withLie(frame, liar, accused);
        lied.runUntil(120_000);
        int d = deaths(lied, liar);
        liarDeaths += d;
        liarRuns += d > 0 ? 1 : 0;

        if (seed <= Math.max(1, runs / 10)) {
          TestMesh starved = TestMesh.ofRoster(10, agent, seed);
          starved.runUntil(5_000);
          for (int i = 0; i < starved.nodes.size(); i++) {
            starved.node(i).inputLag = 700 + 200 * (i % 4);
            starved.node(i).timerLag = 60;
          }
          starved.runUntil(180_000);
          starvedDeaths += deaths(starved, null);
          TestMesh jumpyMesh = TestMesh.ofRoster(8, agent, seed + 11);
          jumpyMesh.runUntil(5_000);
          TestMesh.Node jumpy = jumpyMesh.node(5);
          for (int i = 0; i < 30; i++) {
            jumpy.pausedUntil = jumpyMesh.now + 2_500;
            jumpyMesh.runUntil(jumpyMesh.now + 4_000);
          }
          jumpyDeaths += deaths(jumpyMesh, null);
        }
      }
      System.out.println(String.format(Locale.ROOT,
          "explore k=%d runs=%d (worst: run %d, %d ms, first suspected at %d ms there, negative if at the seed): killed agent dead at every node mean %.1f s p99 %.1f s worst %.1f s (never: %d);"
              + " seed mean %.1f s p99 %.1f s worst %.1f s; liar: false deaths in %d of %d runs (%d deaths);"
              + " starved agent fleets (%d runs x 180 s): %d deaths; jumpy node: %d deaths",
          k, runs, worstRun, worstRunMillis, worstRunSuspect, mean(all), pct(all, 0.99), pct(all, 1.0), all.stream().filter(v -> v == Long.MAX_VALUE).count(),
          mean(atSeed), pct(atSeed, 0.99), pct(atSeed, 1.0), liarRuns, runs, liarDeaths,
          Math.max(1, runs / 10), starvedDeaths, jumpyDeaths));
    }
  }

  private static int deaths(TestMesh mesh, TestMesh.Node except) {
    int d = 0;
    for (TestMesh.Node n : mesh.nodes) {
      if (n == except) {
        continue;
      }
      d += (int) n.memberEvents().stream().filter(e -> e.newState() == MemberStatus.DEAD).count();
    }
    return d;
  }

  private static double mean(List<Long> v) {
    return v.stream().filter(x -> x != Long.MAX_VALUE).mapToLong(Long::longValue).average().orElse(-1) / 1000.0;
  }

  private static double pct(List<Long> v, double p) {
    long[] s = v.stream().mapToLong(Long::longValue).sorted().toArray();
    long x = s[Math.max(0, (int) Math.ceil(p * s.length) - 1)];
    return x == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : x / 1000.0;
  }
}
