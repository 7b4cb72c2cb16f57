package io.patchmesh.runtime;

import io.patchmesh.proto.Frame;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounds the membership frames of one link that wait for the node loop (issue 12's bench: a
 * certified rogue sending 50,000 invented members in 1,024-member push-pulls, repeated every
 * second, queued decoded frames faster than a loaded agent's loop dropped them, and an agent at the
 * launcher's -Xmx64m spent a minute in back-to-back full GCs). Admitted on the link's I/O thread,
 * released on the loop once handled; a frame beyond the bound is dropped before it is queued, and
 * counted. Membership is eventually consistent, so a dropped frame costs an honest peer at most a
 * probe or a push-pull round: its own come at about one per second, far below the bounds.
 */
final class MeshFrameGate {
  /** Membership frames of one link waiting for the loop at most. */
  static final int MAX_QUEUED = 64;
  /** Push-pulls (up to ~1 MiB each) of one link waiting for the loop at most. */
  static final int MAX_QUEUED_PUSH_PULLS = 2;
  /**
   * Frames of one link dropped, per strike against the sender (3 ban). An honest peer sends about
   * one membership frame a second and a push-pull every 30 s or more: it would need a loop stalled
   * for a minute, or ten push-pull bursts, to be charged once; strikes halve every hour.
   */
  static final int DROPS_PER_STRIKE = 10;
  /**
   * How long a link whose frame was dropped is not read: the flooder then gets about
   * {@link #MAX_QUEUED_PUSH_PULLS} push-pulls handled per pause, and we decode about one we drop,
   * instead of decoding everything it sends. An honest peer's push-pull comes every 30 s or more.
   */
  static final long FLOOD_PAUSE_MILLIS = 1_000;
  /**
   * Push-pulls of one link handled at most: a burst of 3, then one per 2 s. An honest peer sends
   * one request and one reply per push-pull interval (30 s on a LAN) at most; a flooder repeating
   * thousands of invented members gets the loop's work for one push-pull every 2 s, not for all.
   */
  static final int PUSH_PULL_BURST = 3;
  static final long PUSH_PULL_PERIOD_MILLIS = 2_000;

  /** What to do with a frame. */
  enum Verdict {
    /** Queue it for the loop; {@link #done} follows once handled. */
    QUEUE,
    /** Drop it. */
    DROP,
    /** Drop it, and charge the sender a strike: {@link #DROPS_PER_STRIKE} more were dropped. */
    DROP_AND_CHARGE
  }

  /** One link's state: what waits for the loop, drops towards a strike, its push-pull tokens. */
  private static final class Entry {
    int queued;
    int queuedPushPulls;
    int drops;
    double tokens = PUSH_PULL_BURST;
    long refilledAt = Long.MIN_VALUE;
  }

  /** Per link; an entry goes when its link goes ({@link #forget}). */
  private final Map<Object, Entry> links = new ConcurrentHashMap<>();
  final AtomicLong dropped = new AtomicLong();

  /** Whether {@code frame} is a membership frame (gated here). */
  static boolean gated(Frame frame) {
    return switch (frame.getBodyCase()) {
      case PING, ACK, NACK, PING_REQ, PUSH_PULL, ANNOUNCE, MEMBER_QUERY, REVOCATIONS -> true;
      default -> false;
    };
  }

  /**
   * Whether {@code frame}, from {@code link} (a PeerLink; any key in tests), arriving at
   * {@code nowMillis} (monotonic), may be queued for the loop.
   */
  Verdict admit(Object link, Frame frame, long nowMillis) {
    if (!gated(frame)) {
      return Verdict.QUEUE;
    }
    boolean pushPull = frame.getBodyCase() == Frame.BodyCase.PUSH_PULL;
    Verdict[] v = {Verdict.DROP};
    links.compute(link, (l, c) -> {
      Entry e = c == null ? new Entry() : c;
      boolean room = e.queued < MAX_QUEUED && (!pushPull || e.queuedPushPulls < MAX_QUEUED_PUSH_PULLS);
      if (room && pushPull) {
        if (e.refilledAt != Long.MIN_VALUE) {
          e.tokens = Math.min(PUSH_PULL_BURST, e.tokens + (double) (nowMillis - e.refilledAt) / PUSH_PULL_PERIOD_MILLIS);
        }
        e.refilledAt = nowMillis;
        room = e.tokens >= 1;
        if (room) {
          e.tokens -= 1;
        }
      }
      if (room) {
        e.queued++;
        e.queuedPushPulls += pushPull ? 1 : 0;
        v[0] = Verdict.QUEUE;
      } else if (++e.drops % DROPS_PER_STRIKE == 0) {
        v[0] = Verdict.DROP_AND_CHARGE;
      }
      return e;
    });
    if (v[0] != Verdict.QUEUE) {
      dropped.incrementAndGet();
    }
    return v[0];
  }

  /** An admitted frame was handled (or dropped on the loop). */
  void done(Object link, Frame frame) {
    if (!gated(frame)) {
      return;
    }
    boolean pushPull = frame.getBodyCase() == Frame.BodyCase.PUSH_PULL;
    links.computeIfPresent(link, (l, e) -> {
      e.queued = Math.max(0, e.queued - 1);
      e.queuedPushPulls = Math.max(0, e.queuedPushPulls - (pushPull ? 1 : 0));
      return e;
    });
  }

  /** The link is down: its state goes. */
  void forget(Object link) {
    links.remove(link);
  }

  /** Links with state (tests). */
  int size() {
    return links.size();
  }
}
