package io.patchmesh.runtime;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.store.StateStore;
import io.patchmesh.trust.ManifestId;

/**
 * An apply in progress, recorded in the node's store before it starts, so that a crash, a kill
 * or a reboot during it (an install command that takes its host down) is reported after the
 * restart instead of forgotten. Without the record the agent came back with the manifest merely
 * complete, applied it again, and the seeds never learned that the first attempt died.
 *
 * <p>Key: {@code applying:HEX} while the apply runs, removed when it returns (kept when the node
 * shuts down during it: that result is never reported). The start that finds
 * one reports the apply as {@link #afterCrash} says and removes it: that life does not apply the
 * manifest again (a patch that takes its host down would do so again at every boot); a later
 * restart retries it like any failed apply.
 */
final class ApplyingMarks {
  static final String PREFIX = "applying:";
  static final String RUNNING = "running";
  /**
   * How long an apply waits for its APPLYING report to be written to a seed link before it starts
   * anyway (at once when no seed is linked): short, so an unreachable seed never holds an apply up.
   */
  static final long REPORT_WAIT_MILLIS = 3_000;

  /** The phase and reason an apply left in progress by an earlier life is reported with. */
  record AfterCrash(ManifestPhase phase, String reason) {}

  private final StateStore state;

  ApplyingMarks(StateStore state) {
    this.state = state;
  }

  /** Before the apply starts (a synced write: it must survive the crash it is there for). */
  void begin(ManifestId id) {
    state.putString(PREFIX + id.hex(), RUNNING, true);
  }

  /** The apply returned (whatever its result, which the caller records). */
  void end(ManifestId id) {
    state.delete(PREFIX + id.hex(), true);
  }

  /** Whether an earlier life left the apply of {@code id} in progress. */
  boolean left(ManifestId id) {
    return state.getString(PREFIX + id.hex()) != null;
  }

  /**
   * What to report for an apply an earlier life left in progress. Pure.
   *
   * @param committed the apply dir's ownership record names this manifest: the switch and its
   *     install command completed, only the "applied" record was lost
   * @param recovery what the apply journal's recovery at this start did about this manifest, or null
   */
  static AfterCrash afterCrash(boolean committed, String recovery) {
    if (committed) {
      return new AfterCrash(ManifestPhase.PHASE_APPLIED, "");
    }
    String what = recovery != null ? recovery : "nothing was left to undo at the restart; the previous files stay";
    return new AfterCrash(ManifestPhase.PHASE_FAILED,
        "interrupted while applying (the agent stopped or its host restarted during the apply or its install command); "
            + what + "; not retried until the agent restarts");
  }
}
