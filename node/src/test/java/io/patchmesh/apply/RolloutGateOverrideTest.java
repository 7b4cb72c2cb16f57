package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.trust.ManifestId;
import org.junit.jupiter.api.Test;

/** The agent's side of an operator's maintenance-window override: it lifts windows, never the stage. */
class RolloutGateOverrideTest {
  static final ManifestId ID = ManifestId.fromHex("07".repeat(32));
  static final long NOW = 1_800_000_000_000L;

  static RolloutState state(RolloutState.State s, int permille, long seedTime, long overrideUntil) {
    return RolloutState.newBuilder().setManifestId(ID.toByteString()).setState(s).setOpenPermille(permille)
        .setSeedTimeUnixMs(seedTime).setWindowOverrideUntilUnixMs(overrideUntil).build();
  }

  @Test
  void anOverrideLastsUntilItsEndBySeedsClockAndOnlyWhileActive() {
    RolloutGate gate = new RolloutGate();
    assertFalse(gate.windowOverridden(ID, NOW), "no state from a seed: no override");
    gate.onState(state(RolloutState.State.ACTIVE, 1000, NOW, NOW + 60_000), NOW);
    assertTrue(gate.windowOverridden(ID, NOW + 59_000));
    assertFalse(gate.windowOverridden(ID, NOW + 60_000), "ended");
    gate.onState(state(RolloutState.State.PAUSED, 1000, NOW + 1, NOW + 60_000), NOW + 1);
    assertFalse(gate.windowOverridden(ID, NOW + 2), "a paused rollout is not overridden");
  }

  @Test
  void anAgentWhoseClockIsBehindJudgesTheOverridesEndByTheSeedsClock() {
    RolloutGate gate = new RolloutGate();
    long behind = NOW - 3_600_000; // the agent's clock is an hour slow
    gate.onState(state(RolloutState.State.ACTIVE, 1000, NOW, NOW + 60_000), behind);
    assertTrue(gate.windowOverridden(ID, behind + 30_000));
    assertFalse(gate.windowOverridden(ID, behind + 61_000), "an hour-slow clock does not stretch the override");
  }

  @Test
  void theOverrideDoesNotAdmitAnAgentItsStageHasNotAdmitted() {
    Manifest staged = Manifest.newBuilder().setRollout(Rollout.newBuilder().addStagePercent(50).addStagePercent(100)).build();
    NodeId self = NodeId.fromHex("ab".repeat(32));
    int mine = RolloutGate.admission(self, ID);
    RolloutGate gate = new RolloutGate();
    gate.onState(state(RolloutState.State.ACTIVE, mine, NOW, NOW + 60_000), NOW); // open share just below us
    assertTrue(gate.windowOverridden(ID, NOW));
    assertFalse(gate.decide(staged, ID, self).apply(), "not admitted: the override lifts windows only");
    gate.onState(state(RolloutState.State.ACTIVE, mine + 1, NOW + 1, NOW + 60_000), NOW + 1);
    assertTrue(gate.decide(staged, ID, self).apply());
  }
}
