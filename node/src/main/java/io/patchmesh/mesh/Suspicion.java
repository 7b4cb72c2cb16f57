package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.HashSet;
import java.util.Set;

/**
 * The timer that turns a suspect into a dead member (Lifeguard's dynamic suspicion timeout).
 *
 * <p>It starts at {@code max}, long enough for a slow but live member to hear the accusation and
 * refute it. Every independent confirmation — the same suspicion from a member that has not yet
 * confirmed — is evidence the member really is gone, so the timeout shrinks along a log curve to
 * {@code min} once {@code k} confirmations arrived: {@code max − log(n+1)/log(k+1) · (max − min)}.
 * Sans-I/O: it only computes a deadline; {@link Membership} checks it on tick.
 */
final class Suspicion {
  /** Confirmations wanted to reach {@code min}; 0 in tiny clusters, where there is nobody to ask. */
  private final int k;

  private final long minMillis;
  private final long maxMillis;

  /** When the suspicion began here; the timeout is measured from this, not from each confirmation. */
  private final long startMillis;

  /** Who already accused, the first accuser included: no member is counted twice. */
  private final Set<NodeId> accusers = new HashSet<>();

  private int confirmations;
  private long deadlineMillis;
  private boolean deferred;
  private long deferredUntil = Long.MIN_VALUE;

  Suspicion(NodeId accuser, int k, long minMillis, long maxMillis, long nowMillis) {
    this.k = k;
    this.minMillis = minMillis;
    this.maxMillis = maxMillis;
    this.startMillis = nowMillis;
    if (accuser != null) {
      accusers.add(accuser);
    }
    this.deadlineMillis = nowMillis + (k < 1 ? minMillis : maxMillis);
  }

  /**
   * Counts {@code accuser}'s confirmation. Returns true if it was new information (worth
   * re-gossiping so others can count it too); false for duplicates or once k were counted.
   */
  boolean confirm(NodeId accuser) {
    if (confirmations >= k || accuser == null || !accusers.add(accuser)) {
      return false;
    }
    confirmations++;
    deadlineMillis = Math.max(deferredUntil, startMillis + timeoutMillis(confirmations, k, minMillis, maxMillis));
    return true;
  }

  /**
   * Puts the verdict off to {@code untilMillis} (this node's own loop was late), once per
   * suspicion; returns false if it was put off already. Confirmations after it do not bring it
   * back earlier than {@code untilMillis}.
   */
  boolean deferOnce(long untilMillis) {
    if (deferred) {
      return false;
    }
    deferred = true;
    deferredUntil = untilMillis;
    deadlineMillis = Math.max(deadlineMillis, untilMillis);
    return true;
  }

  long deadlineMillis() {
    return deadlineMillis;
  }

  int confirmations() {
    return confirmations;
  }

  /** Total timeout after {@code n} of {@code k} confirmations (memberlist's remainingSuspicionTime). */
  static long timeoutMillis(int n, int k, long minMillis, long maxMillis) {
    double frac = Math.log(n + 1.0) / Math.log(k + 1.0);
    long timeout = (long) Math.floor(maxMillis - frac * (maxMillis - minMillis));
    return Math.max(minMillis, timeout);
  }
}
