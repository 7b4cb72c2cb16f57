package io.patchmesh.seed.cluster;

import io.patchmesh.proto.RolloutState;
import java.nio.charset.StandardCharsets;

/**
 * What steers one rollout: its state, the open stage and why it is not
 * active, when that stage opened, and an operator's maintenance-window
 * override. This is the only rollout state that must survive a seed (the
 * progress behind it is recomputed from agents' reports), so it is what a
 * {@link RolloutStore} keeps — in the seed's own store, or in ZooKeeper for a
 * cluster of seeds.
 *
 * @param state active, paused, halted or aborted
 * @param stage index of the open stage (0-based)
 * @param reason why it is not active ("" when active)
 * @param version the store's version of this record, for compare-and-set (-1 = not stored yet)
 * @param stageOpenedMillis when the open stage opened, by the clock of the seed that opened it (0 =
 *     not recorded: a record written by an older seed); urgent rollouts time their stages by it, so
 *     a new leader does not restart the clock
 * @param windowOverrideUntilMillis until when (seed clock, epoch ms) agents admitted by their stage
 *     apply outside their maintenance windows; 0 = no override
 */
public record RolloutRecord(RolloutState.State state, int stage, String reason, int version, long stageOpenedMillis,
    long windowOverrideUntilMillis) {
  /** Reasons are shown on dashboards and sent to agents; longer ones are cut. */
  public static final int MAX_REASON_CHARS = 500;
  /** Prefix of the current text form; records without it are the older {@code STATE:stage:reason}. */
  private static final String V2 = "v2:";

  public RolloutRecord {
    if (stage < 0) {
      throw new IllegalArgumentException("negative stage " + stage);
    }
    if (stageOpenedMillis < 0 || windowOverrideUntilMillis < 0) {
      throw new IllegalArgumentException("negative time in a rollout record");
    }
    reason = reason == null ? "" : reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS) : reason;
  }

  /** A record with no stage-open time and no override (older seeds' form). */
  public RolloutRecord(RolloutState.State state, int stage, String reason, int version) {
    this(state, stage, reason, version, 0, 0);
  }

  /** A rollout no one has steered yet: active, first stage. */
  public static RolloutRecord initial() {
    return new RolloutRecord(RolloutState.State.ACTIVE, 0, "", -1);
  }

  /** A rollout no one has steered yet whose first stage opens now. */
  public static RolloutRecord initial(long nowMillis) {
    return new RolloutRecord(RolloutState.State.ACTIVE, 0, "", -1, nowMillis, 0);
  }

  public RolloutRecord with(RolloutState.State s, int st, String why) {
    return new RolloutRecord(s, st, why, version, stageOpenedMillis, windowOverrideUntilMillis);
  }

  public RolloutRecord withVersion(int v) {
    return new RolloutRecord(state, stage, reason, v, stageOpenedMillis, windowOverrideUntilMillis);
  }

  public RolloutRecord withStageOpened(long millis) {
    return new RolloutRecord(state, stage, reason, version, millis, windowOverrideUntilMillis);
  }

  /** With a window override until {@code millis} (seed clock); 0 clears it. */
  public RolloutRecord withWindowOverride(long millis) {
    return new RolloutRecord(state, stage, reason, version, stageOpenedMillis, millis);
  }

  /** True while the operator's window override lasts at {@code nowMillis}. */
  public boolean windowOverridden(long nowMillis) {
    return windowOverrideUntilMillis > nowMillis;
  }

  /** True when both say the same (versions aside). */
  public boolean sameAs(RolloutRecord o) {
    return state == o.state && stage == o.stage && reason.equals(o.reason) && stageOpenedMillis == o.stageOpenedMillis
        && windowOverrideUntilMillis == o.windowOverrideUntilMillis;
  }

  /**
   * The text form: {@code v2:STATE:stage:stageOpenedMillis:windowOverrideUntilMillis:reason}.
   * Seeds of a cluster must all read it: upgrade every seed before the first one writes it.
   */
  public String encode() {
    return V2 + state.name() + ":" + stage + ":" + stageOpenedMillis + ":" + windowOverrideUntilMillis + ":" + reason;
  }

  public byte[] bytes() {
    return encode().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses {@link #encode}'s form, and the older {@code STATE:stage:reason}. Throws
   * IllegalArgumentException on anything else: a record that does not parse was not written by
   * a seed.
   */
  public static RolloutRecord decode(String text, int version) {
    if (text.startsWith(V2)) {
      String[] p = text.substring(V2.length()).split(":", 5);
      if (p.length < 4) {
        throw new IllegalArgumentException("not a rollout record: " + text);
      }
      return new RolloutRecord(state(p[0]), Integer.parseInt(p[1]), p.length > 4 ? p[4] : "", version,
          Long.parseLong(p[2]), Long.parseLong(p[3]));
    }
    String[] parts = text.split(":", 3);
    if (parts.length < 2) {
      throw new IllegalArgumentException("not a rollout record: " + text);
    }
    return new RolloutRecord(state(parts[0]), Integer.parseInt(parts[1]), parts.length > 2 ? parts[2] : "", version);
  }

  private static RolloutState.State state(String name) {
    RolloutState.State s = RolloutState.State.valueOf(name);
    if (s == RolloutState.State.UNRECOGNIZED) {
      throw new IllegalArgumentException("not a rollout state: " + name);
    }
    return s;
  }

  public static RolloutRecord decode(byte[] data, int version) {
    return decode(new String(data, StandardCharsets.UTF_8), version);
  }
}
