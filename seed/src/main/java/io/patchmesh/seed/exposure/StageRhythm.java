package io.patchmesh.seed.exposure;

import io.patchmesh.proto.Manifest;

/**
 * How fast a seed opens the stages of a rollout. A normal rollout opens the next stage only when
 * every agent admitted to the current one has applied it (or failed under the threshold); an
 * urgent one (publish --urgent, or --severity critical) also opens it once the stage has been
 * open for {@code urgentStageMillis}, so a few slow or offline agents cannot hold a critical fix
 * back from the rest of the fleet. Halts and pauses still stop both.
 *
 * @param urgentStageMillis longest an urgent rollout's stage stays the open one
 */
public record StageRhythm(long urgentStageMillis) {
  public static final StageRhythm DEFAULT = new StageRhythm(60_000);

  public static boolean urgent(Manifest m) {
    return m.hasFixes() && m.getFixes().getUrgent();
  }

  /** Whether the next stage of an urgent (or not) rollout opens although the current one is not finished. */
  public boolean opensEarly(boolean urgent, long stageOpenedMillis, long nowMillis) {
    return urgent && nowMillis - stageOpenedMillis >= urgentStageMillis;
  }

  /** Whether the next stage opens although the current one is not finished. */
  public boolean opensEarly(Manifest m, long stageOpenedMillis, long nowMillis) {
    return urgent(m) && nowMillis - stageOpenedMillis >= urgentStageMillis;
  }
}
