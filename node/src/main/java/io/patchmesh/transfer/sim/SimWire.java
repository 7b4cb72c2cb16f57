package io.patchmesh.transfer.sim;

import io.patchmesh.proto.Piece;
import java.util.ArrayDeque;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * The simulated network and clock: an event queue on integer milliseconds, ties broken by
 * insertion order, so one scenario always replays the same way.
 *
 * <p>Control frames have latency only (1 ms within a site, {@link SwarmSimConfig#rttMillis} halves
 * between sites). A piece within a site is serialised on the sender's LAN uplink; a piece into a
 * site from outside travels one way, then queues at the receiving site's WAN downlink ({@link
 * Downlink}, one FIFO per site served at the site's rate). Senders' WAN uplinks, the seed's
 * included, are not modelled: only the receiving site's link is scarce.
 *
 * <p>Every link has a control and a data connection, each ordered like TCP ({@link SimLink.Path}):
 * a frame never overtakes an earlier one on its connection. A lost frame ({@code --loss}) arrives
 * one retransmission timeout late, and so does everything behind it. A cut ({@code --cut}) drops
 * frames into and out of the site without closing anything: a connection that sends during the cut
 * retransmits with exponential backoff (from {@link #rtoMillis}, doubling, at most {@link
 * #MAX_RTO_MILLIS}, as Linux does), and delivers at its first retransmission after the cut heals;
 * a piece queued at the downlink when its site is cut is dropped there and retransmitted likewise.
 *
 * <p>Link liveness ({@link SwarmSimConfig.Liveness}, the runtime's {@code net/PathLiveness}): a
 * connection whose first frame held by a cut would stay unacknowledged for the user timeout is
 * closed then, with its link, on both ends; every link across a cut sends a keepalive within {@code
 * keepaliveMillis} of the cut's start, so idle links close too. Frames of a closed link are lost,
 * also when the peers are linked again by then. Dials ({@link SwarmSimulation#dial}) are answered
 * only while no cut lies between the two sites.
 */
final class SimWire {
  /** Linux's TCP_RTO_MIN and TCP_RTO_MAX. */
  static final long MIN_RTO_MILLIS = 200;
  static final long MAX_RTO_MILLIS = 120_000;

  private final SwarmSimulation sim;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private final Downlink[] downlinks;
  private final Random loss;
  /** Keepalive phases of links across a cut. */
  private final Random keepalive;
  final long[] wanBytesInto;
  /** Pieces on their way into a site over the WAN: sent, not yet through its downlink or dropped for good. */
  private long wanInFlight;
  private long seq;
  private long now;

  private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Long.compare(at, o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  SimWire(SwarmSimulation sim, double[] downMbit) {
    this.sim = sim;
    this.downlinks = new Downlink[downMbit.length];
    for (int s = 0; s < downMbit.length; s++) {
      downlinks[s] = new Downlink(s, downMbit[s]);
    }
    this.wanBytesInto = new long[downMbit.length];
    this.loss = new Random(sim.cfg.seed() ^ 0x6c6f7373L);
    this.keepalive = new Random(sim.cfg.seed() ^ 0x6b61L);
  }

  long now() {
    return now;
  }

  void at(long when, Runnable action) {
    queue.add(new Event(Math.max(when, now), seq++, action));
  }

  /** Runs events until {@code done}, the queue is empty or the next event is past {@code limit}. */
  long runUntil(long limitMillis, BooleanSupplier done, SwarmSimulation.HeapWatch heap) {
    long events = 0;
    while (!queue.isEmpty()) {
      if ((events & 0xffff) == 0) {
        heap.sample();
      }
      if (done.getAsBoolean()) {
        break;
      }
      Event e = queue.poll();
      if (e.at > limitMillis) {
        now = limitMillis;
        break;
      }
      now = e.at;
      events++;
      e.action.run();
    }
    return events;
  }

  private long oneWay(SimNode a, SimNode b) {
    return a.site == b.site ? 1 : (sim.cfg.rttMillis(a.site) + sim.cfg.rttMillis(b.site)) / 4;
  }

  /** True once no piece is on its way over the WAN: every byte sent has crossed a downlink or is lost for good. */
  boolean wanDrained() {
    return wanInFlight == 0;
  }

  long rttMillis(SimNode a, SimNode b) {
    return 2 * oneWay(a, b);
  }

  /** True if a cut holds the WAN between the two nodes' sites now. */
  boolean cutBetween(SimNode a, SimNode b) {
    return a.site != b.site && !sim.cfg.cuts().isEmpty() && cutAt(a.site, b.site, now) != null;
  }

  /** The initial retransmission timeout between {@code a} and {@code b}. */
  long rtoMillis(SimNode a, SimNode b) {
    return Math.max(MIN_RTO_MILLIS, 4 * oneWay(a, b));
  }

  /** The cut that holds a frame sent now between the two sites, the one healing last; null if none. */
  private SwarmSimConfig.Cut cutAt(int siteA, int siteB, long t) {
    SwarmSimConfig.Cut found = null;
    for (SwarmSimConfig.Cut c : sim.cfg.cuts()) {
      if ((c.site() == siteA || c.site() == siteB) && c.covers(t) && (found == null || c.endMillis() > found.endMillis())) {
        found = c;
      }
    }
    return found;
  }

  /**
   * A frame sent at {@code t} on {@code path} of {@code l} that cut {@code c} holds: when it gets
   * through (see {@link SimLink.Path#resumeAfter}). The first frame held on the connection starts
   * its user timeout: if it would still be unacknowledged then, the link closes at that moment.
   */
  private long hold(SimLink l, SimLink.Path path, SwarmSimConfig.Cut c, long t) {
    boolean first = !path.heldBy(c);
    long resume = path.resumeAfter(c, t, rtoMillis(l.owner, l.peer));
    SwarmSimConfig.Liveness live = sim.cfg.liveness();
    if (first && live.closesSilentPaths() && resume - t >= live.unackedTimeoutMillis()) {
      at(t + live.unackedTimeoutMillis(), () -> sim.pathDied(l));
    }
    return resume;
  }

  /**
   * A cut begins: every WAN link of the site's agents sends a keepalive at a random moment within
   * the keepalive interval (if it sends nothing sooner), so an idle link across the cut is held and
   * times out like a busy one.
   */
  void cutBegins(SwarmSimConfig.Cut c, List<SimNode> site) {
    long every = sim.cfg.liveness().keepaliveMillis();
    for (SimNode n : site) {
      for (SimLink l : n.links.values()) {
        if (l.lan || !l.open) {
          continue;
        }
        at(now + (long) (keepalive.nextDouble() * every), () -> {
          if (l.open && n.alive && c.covers(now)) {
            hold(l, l.ctrl, c, now);
          }
        });
      }
    }
  }

  /**
   * When a frame put on {@code path} (a connection from {@code from} to {@code to}) at {@code sendAt}
   * leaves the sender for good: later if a cut holds it (TCP backoff), then one RTO later if lost.
   */
  private long departure(SimLink l, SimLink.Path path, long sendAt) {
    long t = sendAt;
    if (!l.lan) {
      SwarmSimConfig.Cut c = sim.cfg.cuts().isEmpty() ? null : cutAt(l.owner.site, l.peer.site, t);
      if (c != null) {
        t = hold(l, path, c, t);
      }
    }
    if (sim.cfg.loss() > 0 && loss.nextDouble() < sim.cfg.loss()) {
      t += rtoMillis(l.owner, l.peer);
    }
    return t;
  }

  /** A control frame on {@code l} (the sender's end): delivered in order, after latency, if the receiver is alive. */
  void control(SimLink l, Runnable deliver) {
    SimNode to = l.peer;
    long arrive = l.ctrl.ordered(departure(l, l.ctrl, now) + oneWay(l.owner, to));
    at(arrive, () -> {
      if (to.alive && l.open) {
        SimLink back = to.links.get(l.owner.id);
        if (back != null) {
          back.bytesIn++;
        }
        deliver.run();
      }
    });
  }

  /** A piece on {@code l}'s data connection; it arrives at {@code l.peer} unless the sender dies first. */
  void piece(SimNode from, SimLink l, Piece piece, int bytes) {
    SimNode to = l.peer;
    l.queuedBytes += bytes;
    Runnable arrived = () -> {
      if (from.alive && to.alive && l.open) {
        SimLink back = to.links.get(from.id);
        if (back != null) {
          back.bytesIn += bytes;
        }
        to.onPiece(from, piece);
      }
    };
    if (l.lan) {
      double start = Math.max(now, from.lanUplinkFreeMillis);
      double finish = start + bytes * 8 / (sim.cfg.upMbit(from.site) * 1000);
      from.lanUplinkFreeMillis = finish;
      long done = (long) Math.ceil(finish);
      at(done, () -> {
        l.queuedBytes -= bytes;
        l.drained();
      });
      at(l.data.ordered(done + 1), arrived);
      return;
    }
    long departs = departure(l, l.data, now);
    long atDownlink = l.data.ordered(departs + oneWay(from, to));
    Downlink d = downlinks[to.site];
    InFlight p = new InFlight(l, bytes, arrived);
    boolean held = departs > now + rtoMillis(from, to); // a cut holds it: lost if its link closes meanwhile
    wanInFlight++;
    at(atDownlink, () -> {
      if (!held || l.open) {
        d.arrive(p);
      } else {
        wanInFlight--;
      }
    });
  }

  private record InFlight(SimLink link, int bytes, Runnable arrived) {}

  /**
   * One site's WAN downlink: pieces served one at a time in the order they reach it, at the site's
   * rate. A piece it would start while its site is cut is dropped and comes back when its
   * connection's retransmission gets through.
   */
  private final class Downlink {
    final int site;
    final double mbit;
    final ArrayDeque<InFlight> waiting = new ArrayDeque<>();
    boolean busy;
    double freeAt;

    Downlink(int site, double mbit) {
      this.site = site;
      this.mbit = mbit;
    }

    void arrive(InFlight p) {
      waiting.addLast(p);
      if (!busy) {
        next();
      }
    }

    private void next() {
      InFlight p = waiting.pollFirst();
      if (p == null) {
        busy = false;
        return;
      }
      SwarmSimConfig.Cut c = sim.cfg.cuts().isEmpty() ? null : cutAt(site, site, now);
      if (c != null) {
        SimLink l = p.link();
        at(hold(l, l.data, c, now), () -> {
          if (l.open) {
            arrive(p);
          } else {
            wanInFlight--;
          }
        });
        next();
        return;
      }
      // chained from the last piece's departure (busy), this one was waiting: it starts when the last
      // one left (freeAt), not at that event's whole millisecond — rounded up per piece, a 15 ms
      // piece lost ~0.5 ms of link each, 3-7 % of the link at FastCDC's chunk sizes
      double start = busy ? Math.max(freeAt, now - 1) : Math.max(freeAt, now);
      busy = true;
      freeAt = start + p.bytes() * 8 / (mbit * 1000);
      wanBytesInto[site] += p.bytes();
      at((long) Math.ceil(freeAt), () -> {
        wanInFlight--;
        SimLink l = p.link();
        l.queuedBytes -= p.bytes();
        l.drained();
        p.arrived().run();
        next();
      });
    }
  }
}
