package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Two agents of one site, each with its own request pacer towards the seed, behind one shared link
 * ({@link SiteLinkModel}: 10 Mbit/s, 40 ms, a 300 ms buffer, virtual time) — bench yield's setup,
 * where the second pass measured 203-210 ms of added ping p95 while the agents ran alone: both
 * started with 256 KiB windows and doubled before the first delay came back, and the agent that
 * held the larger window kept it (the other sat at the floor, its few samples all behind the
 * first's pieces).
 */
class RequestPacerSiteTest {
  static SiteLinkModel twoAgents(long secondStartsMillis) {
    return new SiteLinkModel(LedbatConfig.forRequests(), 0, 0, secondStartsMillis);
  }

  @Test
  void twoAgentsStartingTogetherDoNotOverfillTheBuffer() {
    SiteLinkModel m = twoAgents(0).run(3_000);
    double worst = m.delayPercentile(0, 3_000, 100);
    // before: 256 KiB each plus slow start put 690-750 ms in a 300 ms buffer (the real one drops it)
    assertTrue(worst < 300, "queue reached " + worst + " ms in the first 3 s; " + m.describe());
  }

  @Test
  void twoAgentsFillTheLinkAndShareIt() {
    for (long late : new long[] {0, 300, 2_000}) {
      SiteLinkModel m = twoAgents(late).run(30_000);
      double both = m.share(10_000, 30_000);
      assertTrue(both >= 0.9, "late " + late + ": the two took " + both + " of the idle link");
      for (int a = 0; a < 2; a++) {
        // before: 0.05 and 0.95 — the loser's requests were spaced out at the floor
        double one = m.share(a, 10_000, 30_000);
        assertTrue(one >= 0.3, "late " + late + ": agent " + a + " took " + one + "; " + m.describe());
      }
    }
  }

  @Test
  void twoAgentsYieldToTheOtherFlowAndTakeTheLinkBackWithinFiveSeconds() {
    SiteLinkModel m = twoAgents(300).run(20_000).cross(true).run(50_000);
    double beside = m.share(25_000, 50_000);
    assertTrue(beside <= 0.1, "the two took " + beside + " beside the other flow");
    m.cross(false).run(70_000);
    double back = m.secondsUntil(50_000, 70_000, 0.9);
    assertTrue(back >= 0 && back <= 5, "back at 90% after " + back + " s; " + m.describe());
  }
}
