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
 * round trip our data connection's TCP measures as the receiver ({@link #onPathRtt}) or the piece's
 * own request-to-arrival time if that is less (the latter alone where the transport cannot tell; our own loop's
 * lateness taken out of it, {@link #onOwnLag}), or less still the base delay plus the growth of a stamped
 * piece's one-way delay ({@link #onOneWayDelay}: the sender's wait for a core left out). A seed or another site's
 * agent needs to do no more than stamp, and the bytes that cross the site link are bounded by
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
 * {@link #onOwnLag} (how late this node's own loop runs), {@link #onOneWayDelay} (a stamped piece's one-way delay), {@link #reconcile} (the picker's count of requests still outstanding with a source:
 * requests that expired or were cancelled leave the ledger there), {@link #dropSession}, {@link
 * #forget}. Questions: {@link #mayRequest}, {@link #nextRequestMillis}.
 */
public final class RequestPacer extends PeerWindows<RequestPacer.Flow> {
  /** One WAN source: its window, and what we asked of it and wait for. */
  static final class Flow extends PeerWindows.Flow {
    /** Per manifest, chunk index -> {sentMillis, bytes}, oldest first. */
    final Map<ManifestId, LinkedHashMap<Integer, long[]>> outstanding = new HashMap<>();
    long inFlightBytes;
    /** The path's RTT as the data connection's TCP last measured it ({@link #onPathRtt}); -1: none, time pieces. */
    long pathRttMillis = -1;
    /** The next piece's one-way delay ({@link #onOneWayDelay}); Long.MIN_VALUE: none (an unstamped piece). */
    long pendingOneWay = Long.MIN_VALUE;
    /** The least one-way delay seen from this source. */
    final OneWayBase oneWayBase;

    Flow(LedbatConfig config) {
      super(config);
      oneWayBase = new OneWayBase(config.baseIntervalMillis(), config.baseBuckets());
    }

    void remove(long[] entry) {
      inFlightBytes -= entry[1];
    }
  }

  /** The last {@link #onOwnLag} report: the loop ran {@code ownLagMillis} late at {@code ownLagAtMillis}. */
  private long ownLagMillis;
  private long ownLagAtMillis = Long.MIN_VALUE;
  /** The largest lag reported since the last {@link #describe}: the log line says it. */
  private long ownLagMaxMillis;

  public RequestPacer(LedbatConfig config) {
    super(config, Flow::new);
  }

  /**
   * This node's own loop handles, at {@code now}, what it could have handled {@code lagMillis}
   * earlier (its timer is that overdue: the thread was starved of CPU, or busy hashing and storing
   * what came before). A piece handled in the next {@code lagMillis} may have waited that long in our
   * own socket, which is no queue at the site link: its request-to-arrival time is taken as up to that
   * much shorter, never below the base delay (so a sample that did not wait cannot lower the base
   * and make every later one read as queuing). The kernel's RTT ({@link #onPathRtt}) needs no such
   * care: our kernel acknowledges on time however late our loop. The next report replaces this one.
   */
  public void onOwnLag(long now, long lagMillis) {
    ownLagMillis = Math.max(0, lagMillis);
    ownLagAtMillis = now;
    ownLagMaxMillis = Math.max(ownLagMaxMillis, ownLagMillis);
  }

  /** The lag a piece handled at {@code now} may carry from our own loop (see {@link #onOwnLag}). */
  long ownLagMillis(long now) {
    // either side: a piece's arrival stamp may be taken a moment before the report (same late batch)
    return ownLagAtMillis != Long.MIN_VALUE && Math.abs(now - ownLagAtMillis) <= ownLagMillis ? ownLagMillis : 0;
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
    long[] old = f.outstanding.computeIfAbsent(manifest, m -> new LinkedHashMap<>()).put(index, new long[] {now, bytes});
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
    long owd = f.pendingOneWay;
    f.pendingOneWay = Long.MIN_VALUE; // this piece's, sampled or not: never the next one's
    LinkedHashMap<Integer, long[]> m = f.outstanding.get(manifest);
    long[] e = m == null ? null : m.remove(index);
    if (e == null) {
      return;
    }
    if (m.isEmpty()) {
      f.outstanding.remove(manifest);
    }
    f.remove(e);
    long timed = now - e[0];
    long lag = ownLagMillis(now);
    long base = f.ledbat.baseDelayMillis();
    if (lag > 0 && base >= 0 && timed > base) {
      timed = Math.max(base, timed - lag); // what our own loop's lateness may have added (onOwnLag)
    }
    long oneWay = owd == Long.MIN_VALUE ? -1 : oneWaySample(f.oneWayBase, owd, now, lag, base);
    if (oneWay >= 0) {
      timed = Math.min(timed, oneWay);
    }
    // both bound the path's RTT and its queue from above, each with its own error: the piece's time
    // carries the sender's pacing, loss recovery and the piece's serialization; the kernel's RTT, after
    // the sender sat idle, the idle spell (the whole piece goes out as one burst echoing our last ACK
    // from before it: one sample, not diluted). The lesser of the two is the tighter bound.
    f.ledbat.onAck(now, f.pathRttMillis > 0 ? Math.min(f.pathRttMillis, timed) : timed, e[1], f.inFlightBytes);
  }

  /**
   * The next piece from {@code peer} left it {@code oneWayMillis} before it arrived here, by the
   * sender's stamp and our wall clock (plus the clocks' offset, any sign): call just before {@link
   * #onPiece} for a stamped piece. Its growth over the least seen ({@link OneWayBase}) is the queue
   * on the way here, without the sender's wait for a core before it sent (the request in its socket,
   * its read, its loop), which the piece's time and the kernel's RTT both carry. The piece's sample
   * is then at most the base delay plus that growth (our own loop's lateness taken out as for the
   * piece's time, {@link #onOwnLag}).
   */
  public void onOneWayDelay(NodeId peer, long now, long oneWayMillis) {
    flow(peer).pendingOneWay = oneWayMillis;
  }

  /** A piece's one-way delay {@code owd} as a round-trip sample (base + its growth over the least), or -1 with no base yet. */
  private static long oneWaySample(OneWayBase oneWayBase, long owd, long now, long lag, long base) {
    long least = oneWayBase.minMillis();
    if (lag > 0 && least != Long.MAX_VALUE && owd > least) {
      owd = Math.max(least, owd - lag); // never below the least seen: that would make every later one queuing
    }
    oneWayBase.add(now, owd);
    return base < 0 ? -1 : base + (owd - oneWayBase.minMillis());
  }

  /**
   * The data connection to {@code peer} measures a round trip of {@code rttMillis} (> 0) now: the
   * kernel's receive-side RTT (TCP timestamps), read by the driver as each WAN piece comes in. From
   * the first one on, a piece's delay sample is the lesser of this and its request-to-arrival time:
   * the path and its queues, without the sender's pacing, its send buffer or a retransmission's wait
   * (which are no queue at the site link, and which a lossy link or an app-limited sender put in
   * every piece's time); the piece's time still bounds it after the sender sat idle, when the
   * kernel's sample carries the idle spell (see {@link #onPiece}). The samples timed before it leave
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
   * delay — what an operator reads to see whether the agent is yielding, and to whom — and the
   * largest lateness of our own loop reported since the last line ({@link #onOwnLag}; starts anew).
   */
  public String describe() {
    String line = describe("wan-yield:");
    if (line != null) {
      line += " loop late up to " + ownLagMaxMillis + " ms since the last line";
    }
    ownLagMaxMillis = 0;
    return line;
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
