package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.StageTally;
import io.patchmesh.seed.exposure.StageRhythm;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stage rule for silent agents, on virtual time: an admitted agent silent (no link, no report)
 * for {@link StageCount#GONE_AFTER_MILLIS} leaves its stage's tally — a laptop that left does not
 * hold a rollout — unless its latest report said it was applying: then it stays and counts as
 * failed, so a patch whose install kills its canaries halts the rollout instead of passing the
 * canary stage, under the urgent rhythm too.
 */
class StageCountTest {
  static final long GONE = StageCount.GONE_AFTER_MILLIS;
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(10).addStagePercent(100).setHaltFailurePermille(200).build();

  /** One agent as the seed sees it: its latest phase, when it last reported, whether it is linked. */
  static final class Agent {
    ManifestPhase phase;
    long heardMillis;
    boolean linked = true;

    Agent(ManifestPhase phase, long heardMillis) {
      this.phase = phase;
      this.heardMillis = heardMillis;
    }

    void report(ManifestPhase p, long now) {
      phase = p;
      heardMillis = now;
    }
  }

  /** The tally a seed builds at {@code now} from its agents' reports, as StageCensus does (every agent admitted). */
  static StageTally tally(int stage, Map<String, Agent> agents, long now) {
    StageTally.Builder b = new StageTally.Builder(stage);
    for (Agent a : agents.values()) {
      StageCount c = StageCount.of(a.phase, a.linked, now - a.heardMillis);
      if (c != StageCount.LEFT_OUT) {
        b.add("site-a", c == StageCount.APPLIED, c.failed());
      }
    }
    return b.build();
  }

  @Test
  void theRuleByPhaseLinkAndSilence() {
    for (ManifestPhase p : new ManifestPhase[] {null, ManifestPhase.PHASE_KNOWN, ManifestPhase.PHASE_FETCHING,
        ManifestPhase.PHASE_COMPLETE, ManifestPhase.PHASE_WAITING, ManifestPhase.PHASE_APPLIED, ManifestPhase.PHASE_FAILED}) {
      assertEquals(StageCount.LEFT_OUT, StageCount.of(p, false, GONE + 1), "silent in " + p + ": today's rule, it left");
      assertTrue(StageCount.of(p, false, GONE) != StageCount.LEFT_OUT, "15 s exactly is not gone yet: " + p);
    }
    assertEquals(StageCount.SILENT_APPLYING, StageCount.of(ManifestPhase.PHASE_APPLYING, false, GONE + 1));
    assertEquals(StageCount.SILENT_APPLYING, StageCount.of(ManifestPhase.PHASE_APPLYING, false, 30L * 24 * 3600_000),
        "no length of silence drops an agent that went silent applying");
    assertTrue(StageCount.SILENT_APPLYING.failed());
    assertEquals(StageCount.PENDING, StageCount.of(ManifestPhase.PHASE_APPLYING, false, GONE), "applying and heard: pending");
    assertEquals(StageCount.PENDING, StageCount.of(ManifestPhase.PHASE_APPLYING, true, 10 * GONE), "linked: pending however long");
    assertEquals(StageCount.APPLIED, StageCount.of(ManifestPhase.PHASE_APPLIED, true, 10 * GONE));
    assertEquals(StageCount.FAILED, StageCount.of(ManifestPhase.PHASE_FAILED, false, 0));
    assertFalse(StageCount.PENDING.failed());
    assertEquals(StageCount.LEFT_OUT, StageCount.of(ManifestPhase.PHASE_NOT_TARGETED, true, 0));
  }

  @Test
  void canariesThatDieApplyingHaltTheRolloutAndALaptopThatLeftDoesNot() {
    long t = 1_000_000L;
    Map<String, Agent> canaries = new LinkedHashMap<>();
    canaries.put("laptop", new Agent(ManifestPhase.PHASE_WAITING, t));
    canaries.put("ok", new Agent(ManifestPhase.PHASE_FETCHING, t));
    canaries.put("victim", new Agent(ManifestPhase.PHASE_APPLYING, t));
    RolloutRecord r = RolloutRecord.initial();

    // the laptop leaves while waiting; the victim's install kills its host right after its report
    canaries.get("laptop").linked = false;
    canaries.get("victim").linked = false;
    t += 5_000;
    canaries.get("ok").report(ManifestPhase.PHASE_APPLIED, t);
    assertSame(r, RolloutJudge.next(PLAN, r, tally(0, canaries, t), false, t), "within 15 s both are pending");

    t += GONE; // 20 s after their last reports
    StageTally after = tally(0, canaries, t);
    assertEquals(2, after.admitted(), "the laptop left the tally, the victim did not: " + after);
    assertEquals(1, after.applied());
    assertEquals(1, after.failed(), "silent while applying counts as failed");
    RolloutRecord halted = RolloutJudge.next(PLAN, r, after, false, t);
    assertEquals(RolloutState.State.HALTED, halted.state(), "the next stage does not open: " + halted);
    assertEquals(0, halted.stage());
    assertTrue(halted.reason().contains("1 of 2") && halted.reason().contains("silent while applying"), halted.reason());

    // the urgent rhythm does not open past it either: the halt comes first
    assertTrue(StageRhythm.DEFAULT.opensEarly(true, 0, t + 3_600_000), "the urgent rhythm would open the stage by now");
    assertEquals(RolloutState.State.HALTED, RolloutJudge.next(PLAN, r, tally(0, canaries, t + 3_600_000), true, t + 3_600_000).state());
  }

  @Test
  void anAgentSilentWhileApplyingThatComesBackAppliedCountsAsAppliedAgain() {
    long t = 5_000_000L;
    Map<String, Agent> agents = new LinkedHashMap<>();
    agents.put("slow", new Agent(ManifestPhase.PHASE_APPLYING, t));
    agents.put("ok", new Agent(ManifestPhase.PHASE_APPLIED, t));
    agents.get("slow").linked = false;
    t += GONE + 1;
    assertEquals(1, tally(0, agents, t).failed());
    Rollout lenient = PLAN.toBuilder().setHaltFailurePermille(600).build(); // 1 of 2 is under 60%: no halt
    RolloutRecord r = RolloutRecord.initial();
    RolloutRecord opened = RolloutJudge.next(lenient, r, tally(0, agents, t), false, t);
    assertEquals(1, opened.stage(), "under the threshold it counts like any failure: the stage is finished");

    agents.get("slow").linked = true;
    agents.get("slow").report(ManifestPhase.PHASE_APPLIED, t + 60_000); // a long install, done after a reboot
    StageTally back = tally(0, agents, t + 60_000);
    assertEquals(0, back.failed());
    assertEquals(2, back.applied());
    assertEquals(1, RolloutJudge.next(PLAN, r, back, false, t + 60_000).stage(), "applied counts as applied again");
  }
}
