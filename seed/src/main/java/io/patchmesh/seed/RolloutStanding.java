package io.patchmesh.seed;

import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;

/**
 * How one agent counts in a rollout's view (what {@code rollout} and its {@code --wait} show), from
 * what this seed observed itself: the agent's latest report, the seed's own link to it, and — only
 * for an agent that never reported here — this seed's membership view. No I/O.
 *
 * <p>An agent this seed has a report from stays targeted while it is silent: a rollout is not
 * "done" while an agent that has not applied it is merely unheard (no link, no report for {@link
 * #UNHEARD_AFTER_MILLIS}) — it may be starved, cut off or asleep, and it has not applied the patch
 * as far as anyone knows. Only after {@link #OFFLINE_AFTER_MILLIS} of silence does it stop counting
 * ({@link #OFFLINE}), and the view names how many were left out so.
 *
 * <p>An agent whose latest report said it was applying the manifest and that fell silent since is
 * {@link #SILENT_APPLYING}: it died or hung while applying (its stage counts it as failed, see
 * {@link StageCount}) — a casualty, not a laptop that left, so no length of silence drops it.
 */
enum RolloutStanding {
  /** Heard from (a link or a recent report): counts by its report, or as pending without one. */
  HEARD,
  /** Silent for at least {@link #UNHEARD_AFTER_MILLIS}, not known to have applied it: targeted, holds "done" up. */
  UNHEARD,
  /** Silent for longer than {@link #OFFLINE_AFTER_MILLIS}, not known to have applied it: named, not counted. */
  OFFLINE,
  /** Silent, and its last report says it applied the manifest or is not targeted: counts by that report. */
  SETTLED,
  /** Never reported to this seed, and dead or left in this seed's membership view: not counted. */
  GONE,
  /** Silent for at least {@link #UNHEARD_AFTER_MILLIS} since its report that it was applying: targeted, named, never dropped. */
  SILENT_APPLYING;

  /** No link and no report for this long: unheard (the rollout controller's gone rule uses the same). */
  static final long UNHEARD_AFTER_MILLIS = RolloutController.GONE_AFTER_MILLIS;
  /** No link and no report for this long: offline, left out of a rollout's targets (a retired or long-away machine). */
  static final long OFFLINE_AFTER_MILLIS = 24L * 3600_000;

  /**
   * @param report the agent's latest report here, or null if it never reported to this seed
   * @param member its status in this seed's membership view, or null if not a member there
   * @param status its status for this manifest in {@code report}, or null
   * @param linked whether this seed has a link to it now
   */
  static RolloutStanding of(AgentRecord report, MemberStatus member, ManifestStatus status, boolean linked, long nowMillis) {
    if (linked) {
      return HEARD;
    }
    if (report == null) {
      return member == MemberStatus.DEAD || member == MemberStatus.LEFT ? GONE : HEARD;
    }
    long silent = nowMillis - report.receivedMillis();
    if (silent <= UNHEARD_AFTER_MILLIS) {
      return HEARD;
    }
    if (status != null && (status.getPhase() == ManifestPhase.PHASE_APPLIED || status.getPhase() == ManifestPhase.PHASE_NOT_TARGETED)) {
      return SETTLED;
    }
    if (status != null && status.getPhase() == ManifestPhase.PHASE_APPLYING) {
      return SILENT_APPLYING;
    }
    return silent > OFFLINE_AFTER_MILLIS ? OFFLINE : UNHEARD;
  }

  /** Whether an agent standing so counts among the rollout's targeted agents (its phase permitting). */
  boolean counted() {
    return this == HEARD || this == UNHEARD || this == SETTLED || this == SILENT_APPLYING;
  }
}
