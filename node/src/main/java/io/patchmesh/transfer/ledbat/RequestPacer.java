package io.patchmesh.transfer.ledbat;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Paces the requests an agent sends to its WAN sources (`wan-yield: ledbat`): one {@link Ledbat}
 * window per source, over the chunk bytes we have asked of it and not received yet. Receiver-driven
 * as rLEDBAT (RFC 9840): each piece we asked for acknowledges its bytes, and its delay sample is the
 * round trip our data connection's TCP measures as the receiver ({@link #onPathRtt}; the piece's own
 * request-to-arrival time where the transport cannot tell), so a seed or another site's agent needs
 * to do nothing, and the bytes that cross the site link are bounded by
 * what the site's agents ask for — which is why pulling from a seed across the WAN needs no pacing
 * on the seed's side.
 *
 * <p>The controller per source (not one per agent) because each source has its own path and its
 * own base delay: a seed in the data centre and an agent of another site mixed into one minimum
 * would read the farther one's RTT as queuing. LAN sources never come here (the request pump asks
 * only for WAN ones; one definition of WAN: {@link io.patchmesh.transfer.PeerClass}).
 *
 * <p>Sans-I/O: fed the time with every call. Inputs: {@link #onSent}, {@link #onPiece}, {@link
 * #onTimeout}, {@link #onPathRtt} (the data connection's TCP RTT, where the transport tells it),
 * {@link #reconcile} (the picker's count of requests still outstanding with a source:
 * requests that expired or were cancelled leave the ledger there), {@link #dropSession}, {@link
 * #forget}. Questions: {@link #mayRequest}, {@link #nextRequestMillis}.
 */
public final class RequestPacer extends PeerWindows<RequestPacer.Flow> {
  /** One WAN source: its window, and what we asked of it and wait for. */
  static final class Flow extends PeerWindows.Flow {
    /** Per manifest, chunk index -> {sentMillis, bytes, senderIdleMillis}, oldest first. */
    final Map<ManifestId, LinkedHashMap<Integer, long[]>> outstanding = new HashMap<>();
    long inFlightBytes;
    /** The path's RTT as the data connection's TCP last measured it ({@link #onPathRtt}); -1: none, time pieces. */
    long pathRttMillis = -1;
    /** When the last piece we asked for arrived (Long.MIN_VALUE: none yet). */
    long lastPieceMillis = Long.MIN_VALUE;

    Flow(LedbatConfig config) {
      super(config);
    }

    void remove(long[] entry) {
      inFlightBytes -= entry[1];
    }
  }

  public RequestPacer(LedbatConfig config) {
    super(config, Flow::new);
  }

  /** True if a request of about {@code bytes} may go to {@code peer} now. */
  public boolean mayRequest(NodeId peer, long now, long bytes) {
    Flow f = flow(peer);
    return f.ledbat.mayRequest(now, f.inFlightBytes, bytes);
  }

  /**
   * The earliest time a request of about {@code bytes} may go to a source that is held back only by
   * the spacing of a window smaller than one request (Long.MAX_VALUE if none is): the core's timer.
   */
  public long nextRequestMillis(long now, long bytes) {
    long next = Long.MAX_VALUE;
    for (Flow f : flows.values()) {
      long at = f.inFlightBytes == 0 ? f.ledbat.nextRequestMillis(bytes) : Long.MIN_VALUE;
      if (at > now) {
        next = Math.min(next, at);
      }
    }
    return next;
  }

  /** A request for chunk {@code index} ({@code bytes} long) of {@code manifest} went to {@code peer}. */
  public void onSent(NodeId peer, ManifestId manifest, int index, long bytes, long now) {
    Flow f = flow(peer);
    // nothing in flight: the source has had nothing of ours to send since our last piece came
    long idle = f.inFlightBytes <= 0 && f.lastPieceMillis != Long.MIN_VALUE ? Math.max(0, now - f.lastPieceMillis) : 0;
    long[] old = f.outstanding.computeIfAbsent(manifest, m -> new LinkedHashMap<>()).put(index, new long[] {now, bytes, idle});
    if (old != null) {
      f.remove(old);
    }
    f.inFlightBytes += bytes;
    f.ledbat.onRequestSent(now);
  }

  /**
   * A piece arrived from {@code peer} (before it is hashed: its timing is what counts, and a forged
   * one is as cheap to the link as an honest one). A piece we asked it for is a delay sample; any
   * other is ignored.
   */
  public void onPiece(NodeId peer, ManifestId manifest, int index, long now) {
    Flow f = flows.get(peer);
    if (f == null) {
      return;
    }
    LinkedHashMap<Integer, long[]> m = f.outstanding.get(manifest);
    long[] e = m == null ? null : m.remove(index);
    if (e == null) {
      return;
    }
    if (m.isEmpty()) {
      f.outstanding.remove(manifest);
    }
    f.remove(e);
    f.lastPieceMillis = now;
    long delay = now - e[0];
    if (f.pathRttMillis > 0) {
      // the idle spell's correction may read less queuing than there is, never a shorter path: a
      // base delay below the path's would read every later sample as queuing for the base's history
      long base = f.ledbat.baseDelayMillis();
      delay = e[2] > 0 && base > 0 ? Math.max(base, pathDelay(f.pathRttMillis, e[1], e[2])) : f.pathRttMillis;
    }
    f.ledbat.onAck(now, delay, e[1], f.inFlightBytes);
  }

  /** A full-sized segment's payload (Ethernet MTU, TCP timestamps): what the ACK count of a piece is reckoned by. */
  static final int SEGMENT_BYTES = 1448;

  /**
   * The path's delay for a piece of {@code bytes} whose source sat idle {@code idleMillis} before
   * it (0: it did not), from the receive RTT read as it came in. After an idle spell, the piece's
   * first full segment echoes our last ACK from before it, so the kernel's first sample of the piece
   * is longer by the idle time; its average takes 1/8 of a sample and keeps (7/8)^n of it after n
   * more, one per ACK of ours (one per two segments; Linux acks more often after an idle spell, so
   * this takes off at most a little more than was put in). Without this a window at the floor, whose
   * every request is spaced out, read its own spacing as queuing (RequestPacerTcpRttTest). It is an
   * estimate, and on the lossy testbed it took off more than the kernel had put in (a base delay of
   * 185 ms on a 300 ms path, BENCHMARKS 15.y), so {@link #onPiece} never lets it below the base delay
   * and uses it only once there is one.
   */
  static long pathDelay(long rcvRttMillis, long bytes, long idleMillis) {
    if (idleMillis <= 0) {
      return rcvRttMillis;
    }
    long acks = Math.max(1, (bytes + 2L * SEGMENT_BYTES - 1) / (2L * SEGMENT_BYTES));
    double left = Math.pow(7.0 / 8, acks - 1) * idleMillis / 8;
    return Math.max(1, rcvRttMillis - (long) left);
  }

  /**
   * The data connection to {@code peer} measures a round trip of {@code rttMillis} (> 0) now: the
   * kernel's receive-side RTT (TCP timestamps), read by the driver as each WAN piece comes in. From
   * the first one on, a piece's delay sample is this, not its request-to-arrival time: the path and
   * its queues only, without the sender's pacing, its send buffer or a retransmission's wait (which
   * are no queue at the site link, and which a lossy link or an app-limited sender put in every
   * piece's time), and without the piece's own serialization. The samples timed before it leave
   * the controller's delay history (a timed piece is longer than the path's RTT by all of that; as
   * the base delay it would hide a queue, as the current one fake one).
   */
  public void onPathRtt(NodeId peer, long now, long rttMillis) {
    if (rttMillis <= 0) {
      return;
    }
    Flow f = flow(peer);
    if (f.pathRttMillis <= 0) {
      f.ledbat.clearDelays();
    }
    f.pathRttMillis = rttMillis;
    f.ledbat.onRtt(rttMillis);
  }

  /** A request to {@code peer} timed out: a loss to LEDBAT (the window halves, once per RTT). */
  public void onTimeout(NodeId peer, long now) {
    Flow f = flows.get(peer);
    if (f != null) {
      f.ledbat.onLoss(now);
    }
  }

  /**
   * The picker holds {@code outstanding} requests of {@code manifest} with {@code peer}: entries
   * beyond that (expired, cancelled, refused) leave the ledger, oldest first, so they no longer take
   * room in the window.
   */
  public void reconcile(NodeId peer, ManifestId manifest, int outstanding) {
    Flow f = flows.get(peer);
    LinkedHashMap<Integer, long[]> m = f == null ? null : f.outstanding.get(manifest);
    if (m == null || m.size() <= outstanding) {
      return;
    }
    Iterator<long[]> it = m.values().iterator();
    for (int surplus = m.size() - outstanding; surplus > 0 && it.hasNext(); surplus--) {
      f.remove(it.next());
      it.remove();
    }
    if (m.isEmpty()) {
      f.outstanding.remove(manifest);
    }
  }

  /** A session ended (complete or stopped): none of its requests is waited for any more. */
  public void dropSession(ManifestId manifest) {
    for (Flow f : flows.values()) {
      LinkedHashMap<Integer, long[]> m = f.outstanding.remove(manifest);
      if (m != null) {
        m.values().forEach(f::remove);
      }
    }
  }

  /**
   * One line per source for the log (null if none): window, bytes in flight, base and queuing
   * delay — what an operator reads to see whether the agent is yielding, and to whom.
   */
  public String describe() {
    return describe("wan-yield:");
  }

  @Override
  String describeExtra(Flow f) {
    return " (" + (f.inFlightBytes >> 10) + " in flight)";
  }

  /** Request bytes asked of {@code peer} and not received yet. */
  public long inFlightBytes(NodeId peer) {
    Flow f = flows.get(peer);
    return f == null ? 0 : f.inFlightBytes;
  }
}
