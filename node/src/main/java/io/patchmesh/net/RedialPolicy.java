package io.patchmesh.net;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When {@link Transport#maintain} dials a lost address again. A dial the peer answered and refused
 * (connection refused, TLS or Hello refused, handshake timed out on a busy peer) backs off
 * exponentially up to the configured maximum, so a fleet does not hammer a seed that is down or
 * overloaded. A dial that got no answer at all (the TCP connect timed out, no route) means the path
 * is silent, as behind a cut WAN link: the SYNs cost the peer nothing, and backing off there is what
 * kept a healed site waiting up to a minute for its next attempt. Such dials are retried after
 * {@code unansweredRetry} (jittered to half..all of it), never longer. A link that was up and went
 * down is redialled after the first step of the backoff. Pure; not thread-safe.
 */
final class RedialPolicy {
  private final Backoff backoff;
  private final long unansweredNanos;
  private final RandomGenerator random;
  private int failures;

  RedialPolicy(Duration backoffMin, Duration backoffMax, Duration unansweredRetry, RandomGenerator random) {
    this.backoff = new Backoff(backoffMin, backoffMax, random);
    this.unansweredNanos = unansweredRetry.toNanos();
    this.random = random;
  }

  /** The wait before the next dial after a failed one. */
  Duration afterFailure(boolean unanswered) {
    failures++;
    if (unanswered) {
      long half = unansweredNanos / 2;
      return Duration.ofNanos(half + (long) (random.nextDouble() * (unansweredNanos - half)));
    }
    return backoff.next();
  }

  /** The wait before redialling a link that was up and went down. */
  Duration afterLoss() {
    return backoff.next();
  }

  /** A link is up: the next loss starts from the shortest wait again. */
  void linked() {
    failures = 0;
    backoff.reset();
  }

  /** True for the 1st, 2nd, 4th, 8th ... failure in a row: the ones worth a log line. */
  boolean worthLogging() {
    return failures > 0 && (failures & (failures - 1)) == 0;
  }
}
