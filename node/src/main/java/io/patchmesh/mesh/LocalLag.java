package io.patchmesh.mesh;

/**
 * How late this node's own loop runs: Lifeguard's local health idea, measured instead of inferred.
 * A node starved of CPU (a hundred JVMs on two cores, a long GC pause) handles its timers late and
 * the frames that reached its socket late; a probe whose verdict is taken then may blame the target
 * for an Ack that is waiting in our own queue. The driver reports both lags ({@link Membership#tick}
 * sees how late a timer fired, {@link Membership#onFrame(long, long, io.patchmesh.net.NodeId,
 * io.patchmesh.proto.Frame)} how long a frame waited between the socket and the loop), and the
 * failure detector waits that much longer before a verdict ({@link SwimProber}, {@link
 * MemberStates#expire}).
 *
 * <p>The recent lag is the largest sample of the current and the previous window (one probe
 * interval each), so one late tick counts for one to two intervals, and a steady starvation
 * counts all along. Lags up to {@code toleranceMillis} (the driver's tick granularity, a busy
 * moment) count as none. Sans-I/O: it only keeps numbers it is given.
 */
final class LocalLag {
  private final long windowMillis;
  private final long toleranceMillis;
  private long windowStart = Long.MIN_VALUE;
  private long current;
  private long previous;

  LocalLag(long windowMillis, long toleranceMillis) {
    this.windowMillis = windowMillis;
    this.toleranceMillis = toleranceMillis;
  }

  /** For a config: windows of one probe interval; a fifth of the probe timeout is no lag. */
  static LocalLag of(MembershipConfig config) {
    return new LocalLag(config.probeIntervalMillis(), Math.max(1, config.probeTimeoutMillis() / 5));
  }

  /** Something that was due (or arrived) {@code lagMillis} before {@code nowMillis} is handled now. */
  void sample(long nowMillis, long lagMillis) {
    roll(nowMillis);
    if (lagMillis > current) {
      current = lagMillis;
    }
  }

  /** The recent lag beyond the tolerance, or 0 if this node keeps up. */
  long recentMillis(long nowMillis) {
    roll(nowMillis);
    long lag = Math.max(current, previous);
    return lag > toleranceMillis ? lag : 0;
  }

  private void roll(long now) {
    if (windowStart == Long.MIN_VALUE) {
      windowStart = now;
    } else if (now - windowStart >= windowMillis) {
      previous = now - windowStart >= 2 * windowMillis ? 0 : current;
      current = 0;
      windowStart = now;
    }
  }
}
