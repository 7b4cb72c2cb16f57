package io.patchmesh.net;

import java.time.Duration;

/**
 * When a connection's handshake (TCP, TLS, Hello) is given up. A peer that sends nothing for the
 * handshake timeout is dead or not there: given up then, as always. A peer that keeps sending (its
 * TLS flights, its Hello) is alive but slow — a starved machine, where every CPU-second of a TLS
 * handshake takes several seconds of wall time — and giving up on it wastes the work both ends already
 * did and makes both do it again on the redial, which is what kept a starved fleet saturated
 * (BENCHMARKS 12.29). So the timeout counts from the last byte received, and the whole handshake is
 * still bounded by {@link #CAP_FACTOR} times the timeout (a peer trickling bytes holds a pending slot
 * for that long at most: {@link HandshakeAdmission} bounds how many). Pure.
 */
final class HandshakeDeadline {
  /** The longest a handshake may take while the peer keeps sending: this many handshake timeouts. */
  static final int CAP_FACTOR = 3;

  private HandshakeDeadline() {}

  /** The whole handshake's bound for a handshake timeout. */
  static Duration cap(Duration handshakeTimeout) {
    return handshakeTimeout.multipliedBy(CAP_FACTOR);
  }

  /**
   * Nanoseconds to wait before looking again, or 0 to give up now: the handshake started at {@code
   * startNanos}, the last byte from the peer arrived at {@code lastHeardNanos} (the start if none did).
   */
  static long waitMoreNanos(long timeoutNanos, long startNanos, long lastHeardNanos, long nowNanos) {
    long quietUntil = Math.max(startNanos, lastHeardNanos) + timeoutNanos;
    long capUntil = startNanos + timeoutNanos * CAP_FACTOR;
    long until = Math.min(quietUntil, capUntil);
    return until - nowNanos > 0 ? until - nowNanos : 0;
  }
}
