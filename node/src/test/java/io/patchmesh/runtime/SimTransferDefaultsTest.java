package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.transfer.sim.SwarmSimulation;
import org.junit.jupiter.api.Test;

/** The swarm simulation runs the transfer tuning that nodes run, not the picker's test tuning. */
class SimTransferDefaultsTest {
  @Test
  void theSimulationUsesTheNodesTransferTuning() {
    assertEquals(RuntimeOptions.transferDefaults(), SwarmSimulation.productionTransfer());
  }
}
