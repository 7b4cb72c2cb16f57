package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.RolloutState;
import org.junit.jupiter.api.Test;

/** The seed's clock as an agent learns it from rollout states: by which state, and when it judges windows by it. */
class RolloutGateClockTest {
  static final long NOW = RolloutGateOverrideTest.NOW;

  static RolloutState active(long seedTime) {
    return RolloutGateOverrideTest.state(RolloutState.State.ACTIVE, 500, seedTime, 0);
  }

  @Test
  void aClockWithinTwoMinutesOfTheSeedsJudgesWindowsByItself() {
    RolloutGate gate = new RolloutGate();
    assertFalse(gate.clockKnown());
    gate.onState(active(NOW + 90_000), NOW);
    assertTrue(gate.clockKnown());
    assertEquals(90_000, gate.skewMillis());
    assertFalse(gate.skewed());
    assertEquals(NOW, gate.judgeTimeMillis(NOW));
  }

  @Test
  void aClockAnHourOffJudgesWindowsByTheSeedsAndFollowsTheNewestState() {
    RolloutGate gate = new RolloutGate();
    gate.onState(active(NOW), NOW - 3_600_000);
    assertTrue(gate.skewed());
    assertEquals(NOW + 1_000, gate.judgeTimeMillis(NOW - 3_600_000 + 1_000));
    gate.onState(active(NOW + 5_000), NOW + 5_000); // our clock was set right
    assertFalse(gate.skewed());
  }

  @Test
  void anOlderStateReadLateSetsNeitherTheDecisionNorTheClock() {
    RolloutGate gate = new RolloutGate();
    gate.onState(active(NOW), NOW);
    // a copy stamped an hour before the held state, read now: an hour's transit is not the seed's clock
    assertFalse(gate.onState(active(NOW - 3_600_000), NOW + 10));
    assertFalse(gate.skewed());
    assertEquals(0, gate.skewMillis());
  }
}
