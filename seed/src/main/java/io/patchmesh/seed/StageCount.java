package io.patchmesh.seed;

import io.patchmesh.proto.ManifestPhase;

/**
 * How one agent admitted to a rollout's open stage counts in that stage's tally, from what this
 * seed observed itself: the agent's latest report of the manifest and this seed's own link to it.
 * No I/O, no clock of its own: the caller says how long the agent has been silent.
 *
 * <p>An agent this seed has no link to and no report from for {@link #GONE_AFTER_MILLIS} is gone
 * and leaves the tally — a laptop that left must not hold a stage up forever — unless its latest
 * report said it was applying the manifest ({@link ManifestPhase#PHASE_APPLYING}, sent before the
 * install runs). Such an agent stays and counts as failed: a patch whose install kills or hangs
 * its host silences its canaries, and their silence must not let the next stage open. A later
 * report (applied, failed) counts as it says.
 *
 * <p>An admitted agent linked to this seed that has sent it no report yet (just linked, its first
 * report slow, or one that never reports) is pending ({@link #unreported}): it holds its stage
 * like one that reported fetching, until it reports or its link goes away. Without a report
 * there is no silence to time, so once unlinked it is simply not counted.
 */
enum StageCount {
  /** Not counted: not targeted, or gone (silent) in a phase other than applying. */
  LEFT_OUT,
  /** Admitted, not finished yet (no report of the manifest, fetching, waiting, applying while heard). */
  PENDING,
  APPLIED,
  FAILED,
  /** Its latest report says applying, and it has been silent since: counts as failed. */
  SILENT_APPLYING;

  /** No link to this seed and no report for this long: gone (today's rule for every phase but applying). */
  static final long GONE_AFTER_MILLIS = 15_000;

  /**
   * @param phase the phase of the manifest in the agent's latest report here, or null if it never reported it
   * @param linked whether this seed has a link to the agent now
   * @param silentMillis how long ago this seed received the agent's latest report
   */
  static StageCount of(ManifestPhase phase, boolean linked, long silentMillis) {
    if (phase == ManifestPhase.PHASE_NOT_TARGETED) {
      return LEFT_OUT;
    }
    if (!linked && silentMillis > GONE_AFTER_MILLIS) {
      return phase == ManifestPhase.PHASE_APPLYING ? SILENT_APPLYING : LEFT_OUT;
    }
    if (phase == ManifestPhase.PHASE_APPLIED) {
      return APPLIED;
    }
    return phase == ManifestPhase.PHASE_FAILED ? FAILED : PENDING;
  }

  /**
   * How an admitted agent that never reported to this seed counts: pending while this seed has a
   * link to it (admitted, not applied, not failed), left out otherwise.
   */
  static StageCount unreported(boolean linked) {
    return linked ? PENDING : LEFT_OUT;
  }

  /** Counts among the stage's failures (the plan's failure threshold halts the rollout on these). */
  boolean failed() {
    return this == FAILED || this == SILENT_APPLYING;
  }
}
