package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * Server-side accounting of what peers ask of us, to throttle and then drop peers that flood.
 *
 * <p>Each offense adds penalty points to the peer's leaky bucket, which drains at
 * {@link Config#decayPerSecond()}. At {@link Config#throttleAt()} the verdict is THROTTLE (reject
 * its requests with "choked" until the bucket drains); at {@link Config#disconnectAt()} it is
 * DISCONNECT and stays so (the caller closes the connection and calls {@link #forget}). Honest
 * peers can trip an offense now and then — a request racing our Have, one request too many after
 * we shrank our slots — so single offenses are cheap and only a sustained pattern costs the
 * connection. Pure accounting, injected clock, single-threaded.
 */
public final class RequestGuard {
  public enum Verdict {
    ALLOW,
    THROTTLE,
    DISCONNECT
  }

  /** What a peer did wrong, with its default weight in penalty points. */
  public enum Offense {
    /** More requests in flight than the upload slots we allow it. */
    OVER_IN_FLIGHT(1),
    /** A chunk we never announced (it could not know we have it; maybe a race with our Have). */
    NOT_ADVERTISED(2),
    /** A manifest we do not know. */
    UNKNOWN_MANIFEST(2),
    /** A Piece we never requested. */
    UNREQUESTED_PIECE(2),
    /** A Reject "not-have" for a chunk its have-map or Haves claimed (a lying have-map). */
    FALSE_CLAIM(4),
    /** A frame that violates the protocol (bad have-map, index out of range). */
    MALFORMED(10);

    final double points;

    Offense(double points) {
      this.points = points;
    }
  }

  /**
   * @param throttleAt penalty points from which requests are refused (default 10)
   * @param disconnectAt penalty points from which the peer is dropped (default 40)
   * @param decayPerSecond points forgiven per second (default 1)
   */
  public record Config(double throttleAt, double disconnectAt, double decayPerSecond) {
    public Config {
      if (!(throttleAt > 0 && disconnectAt >= throttleAt && decayPerSecond >= 0)) {
        throw new IllegalArgumentException("bad request guard config");
      }
    }

    public static Config defaults() {
      return new Config(10, 40, 1);
    }
  }

  private static final class Bucket {
    double points;
    long lastMillis;
    boolean disconnect;
  }

  private final Config config;
  private final Map<NodeId, Bucket> buckets = new HashMap<>();

  public RequestGuard(Config config) {
    this.config = config;
  }

  /**
   * Accounts one incoming Request.
   *
   * @param manifestKnown we know (and serve) the manifest it names
   * @param advertised we announced the requested chunk to this peer (have-map or Have)
   * @param outstanding requests of this peer already queued or being served, this one excluded
   * @param allowed how many it may have outstanding
   */
  public Verdict onRequest(
      NodeId peer, boolean manifestKnown, boolean advertised, int outstanding, int allowed, long nowMillis) {
    if (!manifestKnown) {
      return record(peer, Offense.UNKNOWN_MANIFEST, nowMillis);
    }
    if (!advertised) {
      return record(peer, Offense.NOT_ADVERTISED, nowMillis);
    }
    if (outstanding >= allowed) {
      return record(peer, Offense.OVER_IN_FLIGHT, nowMillis);
    }
    return verdict(peer, nowMillis);
  }

  /** Adds an offense and returns the resulting verdict. */
  public Verdict record(NodeId peer, Offense offense, long nowMillis) {
    Bucket b = drained(peer, nowMillis);
    b.points += offense.points;
    if (b.points >= config.disconnectAt()) {
      b.disconnect = true;
    }
    return verdictOf(b);
  }

  /** The peer's standing now, without a new offense. */
  public Verdict verdict(NodeId peer, long nowMillis) {
    Bucket b = buckets.get(peer);
    return b == null ? Verdict.ALLOW : verdictOf(drained(peer, nowMillis));
  }

  public double penalty(NodeId peer, long nowMillis) {
    return buckets.containsKey(peer) ? drained(peer, nowMillis).points : 0;
  }

  /** The peer's connection is gone: drop its account. */
  public void forget(NodeId peer) {
    buckets.remove(peer);
  }

  private Bucket drained(NodeId peer, long nowMillis) {
    Bucket b = buckets.get(peer);
    if (b == null) {
      b = new Bucket();
      b.lastMillis = nowMillis;
      buckets.put(peer, b);
      return b;
    }
    long elapsed = Math.max(0, nowMillis - b.lastMillis);
    b.points = Math.max(0, b.points - elapsed * config.decayPerSecond() / 1000.0);
    b.lastMillis = Math.max(b.lastMillis, nowMillis);
    return b;
  }

  private Verdict verdictOf(Bucket b) {
    if (b.disconnect) {
      return Verdict.DISCONNECT;
    }
    return b.points >= config.throttleAt() ? Verdict.THROTTLE : Verdict.ALLOW;
  }
}
