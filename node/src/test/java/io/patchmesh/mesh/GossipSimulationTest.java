package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.sim.GossipSimulation;
import io.patchmesh.mesh.sim.SimConfig;
import io.patchmesh.mesh.sim.SimResult;
import org.junit.jupiter.api.Test;

class GossipSimulationTest {
  @Test
  void sameSeedGivesIdenticalResult() {
    SimConfig config = SimConfig.defaults(150, 0.05, 42).withScenario(false, 0, 0);
    assertEquals(GossipSimulation.run(config), GossipSimulation.run(config));
  }

  @Test
  void sameSeedGivesIdenticalResultUnderTheDropModelToo() {
    SimConfig config = SimConfig.defaults(150, 0.05, 42).withScenario(false, 0, 0)
        .withLossModel(SimConfig.LossModel.DROP);
    assertEquals(GossipSimulation.run(config), GossipSimulation.run(config));
  }

  @Test
  void smallClusterConvergesDetectsTheKilledNodeAndSparesTheStalledOne() {
    SimResult r = GossipSimulation.run(SimConfig.defaults(300, 0.10, 7).withSites(3));
    assertTrue(r.verified99Millis() >= 0 && r.verified99Millis() < 2_500, r.line());
    assertTrue(r.killDetectedByAllMillis() > 0, r.line());
    assertFalse(r.stalledDeclaredDead(), r.line());
    assertEquals(0, r.falseDeaths(), r.line());
  }
}
