package io.patchmesh.seed;

import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.StageTally;
import io.patchmesh.seed.exposure.StageRhythm;

/**
 * The controller's rule, with no I/O: given a rollout's signed plan, its
 * current record and the tally of the agents admitted to its open stage,
 * what the record should become. Only an active rollout moves: it halts when
 * failures exceed the plan's share, and opens the next stage (exactly one)
 * once every admitted agent applied or failed. An agent silent while applying
 * is among the failures ({@link StageCount}); the halt comes before any
 * opening, the urgent rhythm's included. Operator states (paused,
 * halted, aborted) are left alone. A tally of another stage decides nothing.
 */
final class RolloutJudge {
  private RolloutJudge() {}

  static int stages(Rollout plan) {
    return Math.max(1, plan.getStagePercentCount());
  }

  static int openPercent(Rollout plan, int stage) {
    return plan.getStagePercentCount() == 0 ? 100 : plan.getStagePercent(Math.min(stage, plan.getStagePercentCount() - 1));
  }

  /** The next record, or {@code current} itself when nothing changes. */
  static RolloutRecord next(Rollout plan, RolloutRecord current, StageTally tally) {
    return next(plan, current, tally, false);
  }

  /**
   * As {@link #next(Rollout, RolloutRecord, StageTally)}; {@code openEarly} (an urgent rollout
   * whose stage has been open long enough) opens the next stage before every admitted agent
   * finished. A halt still comes first.
   */
  static RolloutRecord next(Rollout plan, RolloutRecord current, StageTally tally, boolean openEarly) {
    return next(plan, current, tally, openEarly, 0);
  }

  /**
   * As {@link #next(Rollout, RolloutRecord, StageTally, boolean)}; a stage opened now is stamped
   * with {@code nowMillis} (the record carries it, so the urgent rhythm survives a failover).
   */
  static RolloutRecord next(Rollout plan, RolloutRecord current, StageTally tally, boolean openEarly, long nowMillis) {
    if (current.state() != RolloutState.State.ACTIVE || tally.stage() != current.stage()) {
      return current;
    }
    int admitted = tally.admitted();
    int failed = tally.failed();
    int haltPermille = plan.getHaltFailurePermille();
    if (haltPermille > 0 && admitted > 0 && failed * 1000L > (long) haltPermille * admitted) {
      String reason = failed + " of " + admitted + " agents in stage " + (current.stage() + 1) + " ("
          + openPercent(plan, current.stage()) + "%) failed or fell silent while applying, over the " + haltPermille / 10.0
          + "% threshold";
      return current.with(RolloutState.State.HALTED, current.stage(), reason);
    }
    if ((admitted == tally.applied() + failed || openEarly) && current.stage() + 1 < stages(plan)) {
      return current.with(RolloutState.State.ACTIVE, current.stage() + 1, "").withStageOpened(nowMillis);
    }
    return current;
  }

  /**
   * Whether an urgent rollout's open stage has been open long enough to open the next one early.
   * The stage-open time comes from the record; only a record from an older seed (none stored)
   * falls back to when this seed first saw the stage.
   */
  static boolean opensEarly(StageRhythm rhythm, boolean urgent, RolloutRecord r, long firstSeenMillis, long nowMillis) {
    long opened = r.stageOpenedMillis() > 0 ? r.stageOpenedMillis() : firstSeenMillis;
    return rhythm.opensEarly(urgent, opened, nowMillis);
  }

  /** Longest window override an operator may give in one command. */
  static final long MAX_WINDOW_OVERRIDE_MILLIS = 7L * 24 * 3600_000;

  /**
   * An operator's window override: agents admitted by their stage apply outside their windows
   * until {@code untilMillis} (seed clock); 0 clears it. State and stage are left alone.
   */
  static RolloutRecord overrideWindow(RolloutRecord current, long untilMillis) {
    return current.withWindowOverride(untilMillis);
  }

  /** An operator's command applied to a record: pause, resume (also a halted rollout) or abort. */
  static RolloutRecord command(RolloutRecord current, String action) {
    return switch (action) {
      case "pause" -> current.state() == RolloutState.State.ABORTED ? current
          : current.with(RolloutState.State.PAUSED, current.stage(), "paused by the operator");
      case "resume" -> current.state() == RolloutState.State.ABORTED ? current
          : current.with(RolloutState.State.ACTIVE, current.stage(), "");
      case "abort" -> current.with(RolloutState.State.ABORTED, current.stage(), "aborted by the operator");
      default -> throw new IllegalArgumentException("unknown action " + action);
    };
  }
}
