package io.patchmesh.seed.cluster;

import io.patchmesh.proto.RolloutState;
import java.nio.charset.StandardCharsets;

/**
 * What steers one rollout: its state, the open stage and why it is not
 * active. This is the only rollout state that must survive a seed (the
 * progress behind it is recomputed from agents' reports), so it is what a
 * {@link RolloutStore} keeps — in the seed's own store, or in ZooKeeper for a
 * cluster of seeds.
 *
 * @param state active, paused, halted or aborted
 * @param stage index of the open stage (0-based)
 * @param reason why it is not active ("" when active)
 * @param version the store's version of this record, for compare-and-set (-1 = not stored yet)
 */
public record RolloutRecord(RolloutState.State state, int stage, String reason, int version) {
  /** Reasons are shown on dashboards and sent to agents; longer ones are cut. */
  public static final int MAX_REASON_CHARS = 500;

  public RolloutRecord {
    if (stage < 0) {
      throw new IllegalArgumentException("negative stage " + stage);
    }
    reason = reason == null ? "" : reason.length() > MAX_REASON_CHARS ? reason.substring(0, MAX_REASON_CHARS) : reason;
  }

  /** A rollout no one has steered yet: active, first stage. */
  public static RolloutRecord initial() {
    return new RolloutRecord(RolloutState.State.ACTIVE, 0, "", -1);
  }

  public RolloutRecord with(RolloutState.State s, int st, String why) {
    return new RolloutRecord(s, st, why, version);
  }

  public RolloutRecord withVersion(int v) {
    return new RolloutRecord(state, stage, reason, v);
  }

  /** True when both say the same (versions aside). */
  public boolean sameAs(RolloutRecord o) {
    return state == o.state && stage == o.stage && reason.equals(o.reason);
  }

  /** The text form the local store has always used: {@code STATE:stage:reason}. */
  public String encode() {
    return state.name() + ":" + stage + ":" + reason;
  }

  public byte[] bytes() {
    return encode().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses {@link #encode}'s form. Throws IllegalArgumentException on anything
   * else: a record that does not parse was not written by a seed.
   */
  public static RolloutRecord decode(String text, int version) {
    String[] parts = text.split(":", 3);
    if (parts.length < 2) {
      throw new IllegalArgumentException("not a rollout record: " + text);
    }
    RolloutState.State s = RolloutState.State.valueOf(parts[0]);
    if (s == RolloutState.State.UNRECOGNIZED) {
      throw new IllegalArgumentException("not a rollout state: " + parts[0]);
    }
    return new RolloutRecord(s, Integer.parseInt(parts[1]), parts.length > 2 ? parts[2] : "", version);
  }

  public static RolloutRecord decode(byte[] data, int version) {
    return decode(new String(data, StandardCharsets.UTF_8), version);
  }
}
