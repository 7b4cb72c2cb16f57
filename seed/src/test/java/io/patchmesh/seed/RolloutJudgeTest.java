package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.StageTally;
import io.patchmesh.seed.exposure.StageRhythm;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutJudgeTest {
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(10).addStagePercent(50).addStagePercent(100)
      .setHaltFailurePermille(100).build();

  static StageTally tally(int stage, int admitted, int applied, int failed) {
    return new StageTally(stage, Map.of("site-a", new StageTally.Count(admitted, applied, failed)));
  }

  @Test
  void opensExactlyTheNextStageWhenEveryAdmittedAgentIsDone() {
    RolloutRecord r = RolloutRecord.initial().withVersion(3);
    RolloutRecord next = RolloutJudge.next(PLAN, r, tally(0, 4, 4, 0));
    assertEquals(1, next.stage());
    assertEquals(RolloutState.State.ACTIVE, next.state());
    assertEquals(3, next.version(), "the version is the one the write is conditional on");
    assertSame(r, RolloutJudge.next(PLAN, r, tally(0, 4, 3, 0)), "one agent still pending");
  }

  @Test
  void aTallyOfAnotherStageDecidesNothing() {
    RolloutRecord r = RolloutRecord.initial().with(RolloutState.State.ACTIVE, 1, "");
    assertSame(r, RolloutJudge.next(PLAN, r, tally(0, 4, 4, 0)), "a late tally of stage 1 cannot open stage 3");
  }

  @Test
  void haltsOverTheFailureShareAndNeverMovesPastTheLastStage() {
    RolloutRecord halted = RolloutJudge.next(PLAN, RolloutRecord.initial(), tally(0, 10, 8, 2));
    assertEquals(RolloutState.State.HALTED, halted.state());
    assertTrue(halted.reason().contains("2 of 10"), halted.reason());
    RolloutRecord last = RolloutRecord.initial().with(RolloutState.State.ACTIVE, 2, "");
    assertSame(last, RolloutJudge.next(PLAN, last, tally(2, 5, 5, 0)));
  }

  @Test
  void operatorStatesAreNotOverriddenAndAbortIsFinal() {
    RolloutRecord paused = RolloutJudge.command(RolloutRecord.initial(), "pause");
    assertSame(paused, RolloutJudge.next(PLAN, paused, tally(0, 1, 1, 0)));
    RolloutRecord aborted = RolloutJudge.command(paused, "abort");
    assertEquals(RolloutState.State.ABORTED, RolloutJudge.command(aborted, "resume").state());
    assertThrows(IllegalArgumentException.class, () -> RolloutJudge.command(paused, "explode"));
  }

  @Test
  void tallyTextRoundTripsAndRefusesImpossibleCounts() {
    StageTally t = new StageTally(1, Map.of("a", new StageTally.Count(3, 2, 1), "b b", new StageTally.Count(1, 0, 0)));
    assertEquals(t, StageTally.parse(t.bytes()));
    assertEquals(tally(0, 8, 8, 0).sites().get("site-a"), tally(0, 4, 4, 0).plus(tally(0, 4, 4, 0)).sites().get("site-a"));
    assertThrows(IllegalArgumentException.class, () -> StageTally.parse("0\n1 2 0 a\n".getBytes()));
    assertThrows(IllegalArgumentException.class, () -> StageTally.parse("0\n-1 0 0 a\n".getBytes()));
    assertThrows(IllegalArgumentException.class, () -> StageTally.parse(new byte[StageTally.MAX_BYTES + 1]));
    assertEquals(RolloutRecord.decode("PAUSED:1:why: because", 7), new RolloutRecord(RolloutState.State.PAUSED, 1, "why: because", 7));
  }

  @Test
  void recordsCarryStageOpenTimeAndWindowOverrideAndStillReadTheOlderForm() {
    RolloutRecord r = new RolloutRecord(RolloutState.State.HALTED, 2, "x: y", 4, 1_700_000_000_123L, 1_700_000_360_000L);
    assertEquals(r, RolloutRecord.decode(r.bytes(), 4));
    RolloutRecord old = RolloutRecord.decode("ACTIVE:1:", 2);
    assertEquals(0, old.stageOpenedMillis(), "an older seed's record has no stage-open time");
    assertEquals(0, old.windowOverrideUntilMillis());
    assertThrows(IllegalArgumentException.class, () -> RolloutRecord.decode("v2:ACTIVE:1:x:0:", 0));
  }

  @Test
  void theStageOpenedNowIsStampedInTheRecord() {
    RolloutRecord r = RolloutRecord.initial(1_000).withVersion(1);
    RolloutRecord next = RolloutJudge.next(PLAN, r, tally(0, 2, 2, 0), false, 5_000);
    assertEquals(1, next.stage());
    assertEquals(5_000, next.stageOpenedMillis());
    RolloutRecord halted = RolloutJudge.next(PLAN, r, tally(0, 2, 0, 2), false, 5_000);
    assertEquals(1_000, halted.stageOpenedMillis(), "a halt opens no stage");
  }

  @Test
  void aNewLeaderTimesAnUrgentStageFromTheRecordNotFromWhenItFirstSawIt() {
    StageRhythm rhythm = new StageRhythm(60_000);
    // the old leader opened stage 2 at t=100 s; the new leader first sees the record at t=150 s
    RolloutRecord stored = RolloutJudge.next(PLAN, RolloutRecord.initial(0).withVersion(1), tally(0, 1, 1, 0), false, 100_000);
    RolloutRecord read = RolloutRecord.decode(stored.bytes(), 2); // as the new leader reads it from the store
    long firstSeen = 150_000;
    assertFalse(RolloutJudge.opensEarly(rhythm, true, read, firstSeen, 159_999));
    assertTrue(RolloutJudge.opensEarly(rhythm, true, read, firstSeen, 160_000), "60 s after the stage opened, not after the failover");
    assertFalse(RolloutJudge.opensEarly(rhythm, false, read, firstSeen, 500_000), "only urgent rollouts open early");
    RolloutRecord olderSeeds = RolloutRecord.decode("ACTIVE:1:", 2);
    assertFalse(RolloutJudge.opensEarly(rhythm, true, olderSeeds, firstSeen, 160_000), "no stored time: from first sight");
    assertTrue(RolloutJudge.opensEarly(rhythm, true, olderSeeds, firstSeen, 210_000));
  }

  @Test
  void aWindowOverrideLeavesStateAndStageAloneAndEnds() {
    RolloutRecord paused = RolloutJudge.command(RolloutRecord.initial(0), "pause");
    RolloutRecord over = RolloutJudge.overrideWindow(paused, 90_000);
    assertEquals(RolloutState.State.PAUSED, over.state());
    assertTrue(over.windowOverridden(89_999));
    assertFalse(over.windowOverridden(90_000));
    assertFalse(RolloutJudge.overrideWindow(over, 0).windowOverridden(0), "cleared");
    assertTrue(RolloutJudge.command(over, "resume").windowOverridden(1), "resume keeps the override");
  }
}
