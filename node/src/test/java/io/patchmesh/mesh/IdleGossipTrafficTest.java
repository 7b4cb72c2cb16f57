package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.sim.GossipSimulation;
import io.patchmesh.mesh.sim.SimConfig;
import io.patchmesh.mesh.sim.SimResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's traffic goal on virtual time: an idle member sends at most 1 KB/s of membership
 * frames, about flat from 100 to 1,000 members, and the announcement, the kill and the stall of
 * the scenario before the idle window are still handled as before digests.
 */
class IdleGossipTrafficTest {
  private static final double BUDGET = 1_000;

  private static SimResult run(int nodes, int sites) {
    SimResult r = GossipSimulation.run(SimConfig.defaults(nodes, 0.0, 3).withSites(sites));
    assertTrue(r.verified99Millis() >= 0, r.line());
    assertTrue(r.killDetectedByAllMillis() > 0 && r.killDetectedByAllMillis() < 20_000, r.line());
    assertFalse(r.stalledDeclaredDead(), r.line());
    assertEquals(0, r.falseDeaths() + r.idleFalseDeaths(), r.line());
    assertEquals(30_000, r.idleMillis(), r.line());
    assertTrue(r.idleBytesPerNodePerSecond() <= BUDGET, r.line());
    return r;
  }

  @Test
  void idleTrafficStaysUnderOneKilobytePerNodeAndFlatFromHundredToThousandMembers() {
    SimResult small = run(100, 2);
    SimResult large = run(1_000, 10);
    assertTrue(large.idleBytesPerNodePerSecond() <= 1.5 * small.idleBytesPerNodePerSecond(),
        small.line() + "\n" + large.line());
    assertTrue(large.idlePushPullBytesPerNodePerSecond() < 100, "digests, not member lists: " + large.line());
  }

  @Test
  void theShareCrossingSitesIsReportedAndSmall() {
    SimResult r = run(300, 3);
    assertTrue(r.idleWanBytesPerNodePerSecond() > 0, r.line());
    assertTrue(r.idleWanBytesPerNodePerSecond() <= 0.3 * r.idleBytesPerNodePerSecond(), r.line());
    assertEquals(r.idleWanBytesPerNodePerSecond() * 2 * 100, r.idleWanBytesPerSiteLinkPerSecond(), 1e-6);
  }
}
