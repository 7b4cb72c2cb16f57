package io.patchmesh.transfer.sim;

import java.util.PriorityQueue;
import java.util.function.BooleanSupplier;

/**
 * The simulated network and clock: an event queue on integer milliseconds, ties broken by
 * insertion order, so one scenario always replays the same way. Control frames have latency only
 * (1 ms within a site, half the RTT between sites). A piece within a site is serialised on the
 * sender's LAN uplink; a piece into a site from outside waits half an RTT, then is serialised on
 * the receiving site's WAN downlink (one FIFO per site). Senders' WAN uplinks, the seed's included,
 * are not modelled: only the receiving site's link is scarce.
 */
final class SimWire {
  private final SwarmSimulation sim;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private final double[] downlinkFreeMillis;
  final long[] wanBytesInto;
  private long seq;
  private long now;

  private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Long.compare(at, o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  SimWire(SwarmSimulation sim) {
    this.sim = sim;
    this.downlinkFreeMillis = new double[sim.cfg.sites()];
    this.wanBytesInto = new long[sim.cfg.sites()];
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
      if ((events & 1023) == 0) {
        heap.sample();
        if (done.getAsBoolean()) {
          break;
        }
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
    return a.site == b.site ? 1 : sim.cfg.rttMillis() / 2;
  }

  /** A control frame: delivered after the latency if the receiver is alive. */
  void control(SimNode from, SimNode to, Runnable deliver) {
    at(now + oneWay(from, to), () -> {
      if (to.alive) {
        deliver.run();
      }
    });
  }

  /** A piece on {@code l}'s data connection; it arrives at {@code l.peer} unless the sender dies first. */
  void piece(SimNode from, SimLink l, int idx, int bytes, boolean corrupt) {
    SimNode to = l.peer;
    l.queuedBytes += bytes;
    double finish;
    long arrive;
    if (l.lan) {
      double start = Math.max(now, from.lanUplinkFreeMillis);
      finish = start + bytes * 8 / (sim.cfg.upMbit() * 1000);
      from.lanUplinkFreeMillis = finish;
      arrive = (long) Math.ceil(finish) + 1;
    } else {
      double start = Math.max(now + oneWay(from, to), downlinkFreeMillis[to.site]);
      finish = start + bytes * 8 / (sim.cfg.downMbit() * 1000);
      downlinkFreeMillis[to.site] = finish;
      wanBytesInto[to.site] += bytes;
      arrive = (long) Math.ceil(finish);
    }
    at((long) Math.ceil(finish), () -> {
      l.queuedBytes -= bytes;
      l.drained();
    });
    at(arrive, () -> {
      if (from.alive) {
        sim.onPiece(to, from, idx, corrupt);
      }
    });
  }
}
