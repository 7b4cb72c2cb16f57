package io.patchmesh.transfer.ledbat;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A site link on virtual time, stepped each millisecond, for the request pacers of several agents
 * behind it: 10 Mbit/s, 40 ms base RTT, a deep 300 ms FIFO buffer (the branch office).
 * Each agent has its own {@link RequestPacer} and pulls 64 KiB chunks from one seed in the data
 * centre; a request reaches the seed after half the RTT, its piece joins the shared queue, drains
 * at the link's rate and reaches its agent half an RTT later, plus a seeded 0..{@code jitter} ms of
 * scheduling delay (a loaded machine). A greedy loss-based flow (the person's download) keeps the
 * buffer full while {@code cross} is on. It records, per millisecond, each agent's bytes through
 * the bottleneck and the queue's delay (what a ping would add).
 *
 * <p>With {@link #chunkSizes} on, chunks are not all 64 KiB but drawn (seeded) as the default
 * FastCDC parameters cut them: 8-128 KiB, about 32 KiB on average. A piece's sample then carries
 * its own serialization, 6-105 ms at 10 Mbit/s, as on the testbed (the equal chunks hid that).
 *
 * <p>With {@link #tcpRtt} on, each agent's pacer is also told, before each piece, the round trip
 * its data connection's TCP measures as the receiver ({@link RequestPacer#onPathRtt}), modelled as
 * Linux keeps {@code tcpi_rcv_rtt} with timestamps: a sample per ACK of ours (one per two
 * full-sized segments), each the path's RTT plus the queue the piece found, smoothed by 1/8 per
 * sample; a piece that the seed sends after it had nothing of ours to send (our requests came
 * late) goes out as one burst whose segments all echo our last ACK from before the idle spell, so
 * it gives one sample, longer by that idle time. Kernel timestamps: no scheduling jitter.
 * With {@link #lossy} on, a piece reaches its agent one RTT plus a retransmission timeout later
 * with the chance that one of its segments was lost (TCP's loss recovery, which holds back the
 * bytes behind the lost one, not a queue at the site link); {@link #senderMillisPerKib} adds a
 * sender that paces each piece out slower than the link (an app-limited BBR estimate).
 * With {@link #stalls} on, the agents' own loops are away for a stretch of every period (a machine
 * starved of CPU: the first rollout's JIT on two cores): a piece that arrives meanwhile waits in the
 * socket until the stretch ends, and no request goes out; with its lag reported, each pacer hears how
 * late its loop ran ({@link RequestPacer#onOwnLag}) as the runtime's timers tell it.
 */
final class SiteLinkModel {
  static final double CAPACITY = 1250; // bytes per ms = 10 Mbit/s
  static final long ONE_WAY = 20;
  static final double BUFFER = CAPACITY * 300;
  static final int CHUNK = 64 * 1024;
  static final int HORIZON = 120_000;

  final NodeId seed = NodeId.of(filled((byte) 0));
  final ManifestId manifest = ManifestId.of(new byte[ManifestId.LENGTH]);
  final RequestPacer[] pacers;
  final long[] startMillis;
  final int jitter;
  Random random = new Random(17);
  /** Chunk sizes drawn per request (8-128 KiB, ~32 KiB mean); off: every chunk {@link #CHUNK}. */
  boolean chunkSizes;
  Random sizes = new Random(17);

  final ArrayDeque<long[]> toSeed = new ArrayDeque<>(); // {arrivesAtSeedMillis, agent, index, bytes}
  final ArrayDeque<double[]> queue = new ArrayDeque<>(); // {agent (-1: the other flow), index, bytes left}
  final PriorityQueue<long[]> toAgents = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0])); // {seenMillis, agent, index}
  final int[] nextIndex;
  double queued;
  boolean cross;
  /** 0: the other flow keeps the buffer full; else its queue ramps from empty to full over this many ms, then drops (CUBIC's sawtooth). */
  long sawtoothMillis;
  long crossSinceMillis;
  long now;
  /** Feed each pacer the modelled TCP receive RTT before each piece (see the class doc). */
  boolean tcpRtt;
  /** Per segment loss chance; a piece with a lost segment arrives {@link #LOSS_DELAY} ms later. */
  double lossPerSegment;
  /** Extra ms per KiB of a piece at the sender (its pacing), added to its arrival, not to the queue. */
  double senderMillisPerKib;
  Random losses = new Random(23);
  /** The agents' loops are away for {@link #stallMillis} of every {@link #stallEveryMillis} (0: never). */
  long stallEveryMillis;
  long stallMillis;
  /** Tell the pacers how late their loop ran ({@link RequestPacer#onOwnLag}) with each piece. */
  boolean reportLag;
  static final long LOSS_DELAY = 2 * ONE_WAY + 200;
  static final int SEGMENT = 1448;
  /** Per agent: the modelled tcpi_rcv_rtt (ms; 0 before a sample). */
  final double[] rcvRtt;
  /** Per agent: when its last piece's last byte left the queue (Long.MIN_VALUE: none yet). */
  final long[] lastDrained;
  /** Per agent: when its last piece is due (TCP delivers in order: a retransmission holds back what follows). */
  final long[] lastDue;
  /** Per agent: its bytes in the queue now. */
  final double[] ownQueued;
  /** Per agent and piece index: {enqueued at, queue delay found, bytes, sender idle before it}. */
  final java.util.Map<Long, double[]> inQueue = new java.util.HashMap<>();
  /** Each agent's bytes through the bottleneck per millisecond. */
  final double[][] ours;
  /** The queue's delay (ms) at each millisecond: what a packet joining it then waits. */
  final double[] queueDelay = new double[HORIZON];

  SiteLinkModel(LedbatConfig config, int jitter, long... startMillis) {
    this.pacers = new RequestPacer[startMillis.length];
    for (int i = 0; i < pacers.length; i++) {
      pacers[i] = new RequestPacer(config);
    }
    this.startMillis = startMillis;
    this.jitter = jitter;
    this.nextIndex = new int[startMillis.length];
    this.ours = new double[startMillis.length][HORIZON];
    this.rcvRtt = new double[startMillis.length];
    this.lastDrained = new long[startMillis.length];
    Arrays.fill(lastDrained, Long.MIN_VALUE);
    this.ownQueued = new double[startMillis.length];
    this.lastDue = new long[startMillis.length];
  }

  /** The pacers hear the data connection's TCP receive RTT (see the class doc). */
  SiteLinkModel tcpRtt(boolean on) {
    tcpRtt = on;
    return this;
  }

  /** Segments are lost with chance {@code perSegment}: a piece with a lost one is a retransmission later. */
  SiteLinkModel lossy(double perSegment) {
    lossPerSegment = perSegment;
    return this;
  }

  /** The seed paces each piece out at {@code millisPerKib} beyond the link's own time (0: off). */
  SiteLinkModel slowSender(double millisPerKib) {
    senderMillisPerKib = millisPerKib;
    return this;
  }

  /** The agents' loops are away for {@code millis} of every {@code everyMillis}; {@code report}: the pacers hear of it. */
  SiteLinkModel stalls(long everyMillis, long millis, boolean report) {
    stallEveryMillis = everyMillis;
    stallMillis = millis;
    reportLag = report;
    return this;
  }

  /** True while the agents' loops are away ({@link #stalls}). */
  boolean stalled(long t) {
    return stallEveryMillis > 0 && t % stallEveryMillis < stallMillis;
  }

  /** How late the agents' loops run at {@code t}: a whole stall at its end, else nothing (the timers' overdue). */
  long lateMillis(long t) {
    return stallEveryMillis > 0 && t % stallEveryMillis == stallMillis ? stallMillis : 0;
  }

  /** The modelled receive RTT after a piece: its samples (one per two segments) into the 1/8 average. */
  private void sampleRcvRtt(int agent, double[] piece) {
    double sample = 2 * ONE_WAY + piece[1];
    long acks = Math.max(1, (long) Math.ceil(piece[2] / (2.0 * SEGMENT)));
    if (piece[3] > 0) {
      // after an idle spell the piece leaves as one burst, every segment echoing our last ACK from
      // before it: the kernel takes one sample (it skips an echo it has seen), idle time and all
      double first = sample + piece[3];
      rcvRtt[agent] = rcvRtt[agent] == 0 ? first : rcvRtt[agent] + (first - rcvRtt[agent]) / 8;
      return;
    }
    double r = rcvRtt[agent] == 0 ? sample : rcvRtt[agent];
    rcvRtt[agent] = sample + Math.pow(7.0 / 8, acks) * (r - sample);
  }

  private static long key(long agent, long index) {
    return agent << 32 | index;
  }

  static byte[] filled(byte b) {
    byte[] a = new byte[32];
    Arrays.fill(a, b);
    return a;
  }

  /** Another seed for the jitter and the chunk sizes (before {@link #run}). */
  SiteLinkModel seed(long seed) {
    random = new Random(seed);
    sizes = new Random(seed * 31 + 7);
    return this;
  }

  /** Chunks of FastCDC's sizes from now on (see the class doc). */
  SiteLinkModel chunkSizes(boolean on) {
    chunkSizes = on;
    return this;
  }

  /** The next chunk's size: 8 KiB + an exponential of mean 24 KiB, cut at 128 KiB (FastCDC's bounds). */
  int nextChunkSize() {
    if (!chunkSizes) {
      return CHUNK;
    }
    return (int) Math.min(128 * 1024, 8 * 1024 - 24 * 1024 * Math.log(1 - sizes.nextDouble()));
  }

  SiteLinkModel cross(boolean on) {
    cross = on;
    crossSinceMillis = now;
    return this;
  }

  /**
   * The other flow as a sawtooth from now on: its queue ramps from empty to the full buffer over
   * {@code periodMillis}, then it backs off and the queue drains, so the queuing delay passes through
   * the target's band [target/2, target] once per period while ours sits at the floor (what iperf3's
   * CUBIC did in bench yield's fifth pass).
   */
  SiteLinkModel sawtooth(long periodMillis) {
    sawtoothMillis = periodMillis;
    return this;
  }

  SiteLinkModel run(long endMillis) {
    for (; now < endMillis; now++) {
      while (!toAgents.isEmpty() && toAgents.peek()[0] <= now && !stalled(now)) {
        long[] p = toAgents.poll();
        if (reportLag) {
          pacers[(int) p[1]].onOwnLag(now, lateMillis(now));
        }
        double[] piece = inQueue.remove(key(p[1], p[2]));
        if (tcpRtt && piece != null) {
          sampleRcvRtt((int) p[1], piece);
          pacers[(int) p[1]].onPathRtt(seed, now, (long) Math.ceil(rcvRtt[(int) p[1]]));
        }
        pacers[(int) p[1]].onPiece(seed, manifest, (int) p[2], now);
      }
      for (int a = 0; a < pacers.length; a++) {
        // like the request pump: asks with the average size, books the chunk's own
        long typical = chunkSizes ? 32 * 1024 : CHUNK;
        while (now >= startMillis[a] && !stalled(now) && pacers[a].mayRequest(seed, now, typical)) {
          int bytes = nextChunkSize();
          pacers[a].onSent(seed, manifest, nextIndex[a], bytes, now);
          toSeed.addLast(new long[] {now + ONE_WAY, a, nextIndex[a]++, bytes});
        }
      }
      while (!toSeed.isEmpty() && toSeed.peekFirst()[0] <= now) {
        long[] r = toSeed.pollFirst();
        int a = (int) r[1];
        double idle = ownQueued[a] > 0 || lastDrained[a] == Long.MIN_VALUE ? 0
            : Math.max(0, now - lastDrained[a] - 2 * ONE_WAY); // the seed had nothing of ours since our last ACK came
        inQueue.put(key(a, r[2]), new double[] {now, queued / CAPACITY, r[3], idle});
        queue.addLast(new double[] {r[1], r[2], r[3]}); // TCP gets the piece through, full buffer or not
        queued += r[3];
        ownQueued[a] += r[3];
      }
      double level = sawtoothMillis == 0 ? BUFFER : BUFFER * ((now - crossSinceMillis) % sawtoothMillis) / sawtoothMillis;
      if (cross && queued < level) {
        queue.addLast(new double[] {-1, -1, level - queued});
        queued = level;
      }
      queueDelay[(int) now] = queued / CAPACITY;
      for (double left = CAPACITY; left > 0 && !queue.isEmpty(); ) {
        double[] head = queue.peekFirst();
        double take = Math.min(left, head[2]);
        head[2] -= take;
        left -= take;
        queued -= take;
        if (head[0] >= 0) {
          ours[(int) head[0]][(int) now] += take;
          ownQueued[(int) head[0]] -= take;
        }
        if (head[2] <= 1e-6) {
          queue.pollFirst();
          if (head[0] >= 0) {
            int a = (int) head[0];
            lastDrained[a] = now;
            double[] piece = inQueue.get(key(a, (long) head[1]));
            long late = 0;
            if (piece != null && lossPerSegment > 0
                && losses.nextDouble() < 1 - Math.pow(1 - lossPerSegment, Math.ceil(piece[2] / SEGMENT))) {
              late += LOSS_DELAY;
            }
            if (piece != null) {
              late += (long) (senderMillisPerKib * piece[2] / 1024);
            }
            lastDue[a] = Math.max(lastDue[a], now + ONE_WAY + late);
            toAgents.add(new long[] {lastDue[a] + (jitter == 0 ? 0 : random.nextInt(jitter + 1)), a, (long) head[1]});
          }
        }
      }
    }
    return this;
  }

  /** All agents' share of the link over [from, to). */
  double share(long from, long to) {
    double sum = 0;
    for (double[] agent : ours) {
      for (long t = from; t < to; t++) {
        sum += agent[(int) t];
      }
    }
    return sum / (to - from) / CAPACITY;
  }

  /** One agent's share of the link over [from, to). */
  double share(int agent, long from, long to) {
    double sum = 0;
    for (long t = from; t < to; t++) {
      sum += ours[agent][(int) t];
    }
    return sum / (to - from) / CAPACITY;
  }

  /** The {@code pct} percentile of the queue's delay over [from, to), sampled every 200 ms as bench yield's ping is. */
  double delayPercentile(long from, long to, double pct) {
    double[] s = new double[(int) ((to - from + 199) / 200)];
    for (int i = 0; i < s.length; i++) {
      s[i] = queueDelay[(int) (from + 200L * i)];
    }
    Arrays.sort(s);
    return s[Math.min(s.length - 1, (int) Math.ceil(pct / 100 * s.length) - 1)];
  }

  /** When the agents' bytes into the site first reach 1 MiB (bench yield's "first" mark). */
  long firstMiB() {
    double sum = 0;
    for (int t = 0; t < now; t++) {
      for (double[] agent : ours) {
        sum += agent[t];
      }
      if (sum >= 1 << 20) {
        return t;
      }
    }
    return -1;
  }

  /** Seconds from {@code from} until a one-second window first reaches {@code share} (250 ms steps); -1 if never. */
  double secondsUntil(long from, long end, double share) {
    for (long t = from; t + 1000 <= end; t += 250) {
      if (share(t, t + 1000) >= share) {
        return (t + 1000 - from) / 1000.0;
      }
    }
    return -1;
  }

  /** Seconds from {@code from} until a one-second window first falls to {@code share} or below (250 ms steps); -1 if never. */
  double secondsUntilBelow(long from, long end, double share) {
    for (long t = from; t + 1000 <= end; t += 250) {
      if (share(t, t + 1000) <= share) {
        return (t + 1000 - from) / 1000.0;
      }
    }
    return -1;
  }

  String describe() {
    StringBuilder b = new StringBuilder();
    for (int a = 0; a < pacers.length; a++) {
      b.append("agent ").append(a).append(": ").append(pacers[a].describe()).append(' ');
    }
    return b.toString();
  }
}
