package io.patchmesh.apply;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.trust.ManifestId;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;

/**
 * An agent's view of the seeds' rollout decisions: which stage of a staged
 * rollout is open, and whether a rollout is paused, halted or aborted. Only
 * decisions that arrived over a link whose certificate grants the seed role
 * are fed in, so an unauthenticated peer cannot open a stage. Admission to a
 * stage is deterministic: a stable hash of (node id, manifest id) gives each
 * agent a value in 0..999; an agent applies once the open share exceeds it.
 * Not thread-safe: lives on the node loop.
 */
public final class RolloutGate {
  /** Clock disagreement with a seed beyond which windows are judged by the seed's clock. */
  public static final long MAX_SKEW_MILLIS = 120_000;

  /** What the agent may do with a complete, verified manifest now. */
  public record Decision(boolean apply, boolean aborted, String reason) {
    static final Decision ALLOW = new Decision(true, false, "");

    static Decision waitFor(String why) {
      return new Decision(false, false, why);
    }
  }

  private final Map<ManifestId, RolloutState> states = new HashMap<>();
  private long skewMillis;
  private boolean skewKnown;

  /** The agent's admission value for a manifest: 0..999, stable, spread evenly. */
  public static int admission(NodeId node, ManifestId manifest) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(node.toBytes());
      md.update(manifest.toBytes());
      long v = ByteBuffer.wrap(md.digest()).getLong();
      return (int) Math.floorMod(v, 1000L);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A decision from a certified seed; the newest by the seed's clock wins. */
  public boolean onState(RolloutState s, long localNowMillis) {
    if (s.getManifestId().size() != ManifestId.LENGTH || s.getOpenPermille() > 1000) {
      return false;
    }
    ManifestId id = ManifestId.of(s.getManifestId());
    RolloutState prev = states.get(id);
    if (prev != null && prev.getSeedTimeUnixMs() > s.getSeedTimeUnixMs()) {
      return false; // older than the state held: neither its decision nor its clock (read late, it understates the seed's)
    }
    skewMillis = s.getSeedTimeUnixMs() - localNowMillis;
    skewKnown = true;
    if (prev != null && prev.getState() == RolloutState.State.ABORTED) {
      return false; // abort is final
    }
    if (states.size() > 10_000 && prev == null) {
      return false;
    }
    states.put(id, s);
    return true;
  }

  /** How far the seed's clock is ahead of ours (ms), if a seed has told us. */
  public long skewMillis() {
    return skewKnown ? skewMillis : 0;
  }

  /** True once a seed has told us its time. */
  public boolean clockKnown() {
    return skewKnown;
  }

  /** True when our clock disagrees with the seed's by more than {@link #MAX_SKEW_MILLIS}. */
  public boolean skewed() {
    return skewKnown && Math.abs(skewMillis) > MAX_SKEW_MILLIS;
  }

  /** The time to judge windows by: ours, or the seed's when ours is off. */
  public long judgeTimeMillis(long localNowMillis) {
    return skewed() ? localNowMillis + skewMillis : localNowMillis;
  }

  /**
   * True while a seed's maintenance-window override for {@code id} lasts, judged by the seed's
   * clock (ours plus the last skew a seed told us). Only active rollouts are overridden, and the
   * override lifts windows only: admission to the open stage, pause and halt still decide
   * ({@link #decide}). Fed only from certified seeds, like every state here.
   */
  public boolean windowOverridden(ManifestId id, long localNowMillis) {
    RolloutState s = states.get(id);
    return s != null && s.getState() == RolloutState.State.ACTIVE
        && s.getWindowOverrideUntilUnixMs() > localNowMillis + skewMillis();
  }

  public Decision decide(Manifest m, ManifestId id, NodeId self) {
    RolloutState s = states.get(id);
    boolean staged = m.getRollout().getStagePercentCount() > 0;
    if (s != null) {
      switch (s.getState()) {
        case ABORTED -> {
          return new Decision(false, true, "rollout aborted by the operator");
        }
        case PAUSED -> {
          return Decision.waitFor("verified, rollout paused" + (s.getReason().isEmpty() ? "" : ": " + s.getReason()));
        }
        case HALTED -> {
          return Decision.waitFor("verified, rollout halted: " + s.getReason());
        }
        default -> {
          // ACTIVE: fall through to admission
        }
      }
    }
    if (!staged) {
      return Decision.ALLOW;
    }
    if (s == null) {
      return Decision.waitFor("verified, waiting for a seed to open a stage");
    }
    int mine = admission(self, id);
    if (mine < s.getOpenPermille()) {
      return Decision.ALLOW;
    }
    return Decision.waitFor("verified, waiting for stage (open: " + s.getOpenPermille() / 10.0 + "%)");
  }
}
