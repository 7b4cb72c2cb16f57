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
   * Frames of one link dropped while its queue stayed non-empty, per strike against the sender (3
   * ban): a flood is still decoded before it is dropped, so the flooder is made to stop. An honest
   * peer sends about one membership frame a second; it would need a loop stalled for minutes.
   */
  static final int DROPS_PER_STRIKE = 100;

  /** What to do with a frame. */
  enum Verdict {
    /** Queue it for the loop; {@link #done} follows once handled. */
    QUEUE,
    /** Drop it. */
    DROP,
    /** Drop it, and charge the sender a strike: {@link #DROPS_PER_STRIKE} more were dropped. */
    DROP_AND_CHARGE
  }

  /**
   * Per link: [membership frames, push-pulls] waiting, frames dropped since its queue was last
   * empty. An entry goes once nothing waits, so closed links leave none.
   */
  private final Map<Object, int[]> queued = new ConcurrentHashMap<>();
  final AtomicLong dropped = new AtomicLong();

  /** Whether {@code frame} is a membership frame (gated here). */
  static boolean gated(Frame frame) {
    return switch (frame.getBodyCase()) {
      case PING, ACK, NACK, PING_REQ, PUSH_PULL, ANNOUNCE, MEMBER_QUERY, REVOCATIONS -> true;
      default -> false;
    };
  }

  /** Whether {@code frame}, from {@code link} (a PeerLink; any key in tests), may be queued for the loop. */
  Verdict admit(Object link, Frame frame) {
    if (!gated(frame)) {
      return Verdict.QUEUE;
    }
    boolean pushPull = frame.getBodyCase() == Frame.BodyCase.PUSH_PULL;
    Verdict[] v = {Verdict.DROP};
    queued.compute(link, (l, c) -> {
      int[] n = c == null ? new int[3] : c;
      if (n[0] < MAX_QUEUED && (!pushPull || n[1] < MAX_QUEUED_PUSH_PULLS)) {
        n[0]++;
        n[1] += pushPull ? 1 : 0;
        v[0] = Verdict.QUEUE;
      } else if (++n[2] % DROPS_PER_STRIKE == 0) {
        v[0] = Verdict.DROP_AND_CHARGE;
      }
      return n[0] == 0 ? null : n;
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
    queued.computeIfPresent(link, (l, n) -> {
      n[0]--;
      n[1] -= pushPull ? 1 : 0;
      return n[0] <= 0 ? null : n;
    });
  }
}
