package io.patchmesh.transfer.ledbat;

import java.util.ArrayDeque;

/**
 * A delay-based controller for the bytes an agent asks of WAN peers at once (LEDBAT, RFC 6817,
 * receiver-driven as in rLEDBAT, RFC 9840: the puller's own round-trip measurements, so it needs
 * nothing from the sender). Sans-I/O: fed RTT samples and losses with the time, asked
 * how many request bytes may be outstanding ({@link #windowBytes}, {@link #mayRequest}).
 *
 * <p>Queuing delay = current delay (the minimum of the last few samples) − base delay (the minimum
 * over the last {@code baseBuckets} × {@code baseIntervalMillis}). Below the target the window
 * grows by {@code gain × off_target × growthBytesPerRtt} per window of bytes acknowledged (RFC 6817
 * §2.4.2, where that growth is one unit),
 * with a slow start (doubling per RTT) until one sample's delay first reaches half the target. Above
 * the target it shrinks by the same linear rule (RFC 6817: {@code gain × off_target} units per RTT, so
 * {@code (queuing − target) / target} units), or with {@code multiplicativeDecrease} by that fraction of
 * the window per RTT times a constant (LEDBAT++), capped at {@code maxDecrease} of the window per
 * RTT. {@link LedbatConfig#forRequests} says which
 * and why (several agents of a site share one link: additive growth with a multiplicative decrease is
 * what makes their windows converge to equal shares). A loss halves it, at most once
 * per RTT. The window is capped at what was in flight plus two units (RFC's allowed increase), so an
 * idle window does not inflate: with no queue, the most in flight over the last RTT or two; with one,
 * what is left in flight after each piece.
 *
 * <p>Where it is used: {@link RequestPacer} keeps one per WAN source; the swarm's request pump asks
 * it before sending a Request to a peer of another site (or a seed elsewhere), the piece intake
 * feeds {@link #onAck} with each piece's size and a delay (the lesser of the data connection's TCP
 * receive RTT and the piece's request-to-arrival time; the latter alone where the transport cannot
 * tell the former), and a request timeout is
 * {@link #onLoss}. LAN requests never pass it. See docs/DESIGN.md.
 */
public final class Ledbat {
  /** Bounds the current-delay filter's memory however fast samples come. */
  static final int MAX_CURRENT_SAMPLES = 256;

  private final LedbatConfig config;
  /** Minimum delay per bucket, oldest first; the last is the bucket being filled. */
  private final ArrayDeque<long[]> baseHistory = new ArrayDeque<>(); // {bucketStartMillis, minDelay}
  /** The recent samples the current delay is the minimum of: {atMillis, delay}, oldest first. */
  private final ArrayDeque<long[]> current = new ArrayDeque<>();
  private double window;
  private boolean slowStart = true;
  private long lastLossMillis = Long.MIN_VALUE;
  private long lastRtt = -1;
  private long lastSentMillis = Long.MIN_VALUE;
  /** Bytes in flight before a piece, at most, in the RTT bucket since {@code peakSinceMillis} and the one before. */
  private long peak;
  private long previousPeak;
  private long peakSinceMillis = Long.MIN_VALUE;
  /**
   * The window at which the queuing delay last stood between half the target and the target while the rate
   * received was near the best seen ({@link LedbatConfig#goodRateShare}); 0: none yet.
   */
  private double goodWindow;
  /** The rate received: bytes acknowledged since {@code roundStartMillis}, closed every {@link #RATE_ROUND_MILLIS}. */
  private long roundStartMillis = Long.MIN_VALUE;
  private long roundBytes;
  /** The last closed round's rate, bytes per ms. */
  private double lastRate;
  /** Best rate per bucket of the base delay's history, oldest first: {bucketStartMillis, bytesPerMilli}. */
  private final ArrayDeque<double[]> bestRates = new ArrayDeque<>();

  /**
   * A round of the rate received is at least this long (and at least one RTT): at 10 Mbit/s that is
   * ~20 pieces of FastCDC's average, so one 128 KiB piece more or less moves it by a fifth at most.
   */
  static final long RATE_ROUND_MILLIS = 500;

  public Ledbat(LedbatConfig config) {
    this.config = config;
    this.window = config.initialWindowBytes();
  }

  /**
   * A piece arrived: {@code rttMillis} from its request to its arrival, {@code bytes} of it.
   *
   * @param inFlightBytes request bytes still outstanding after this one (caps growth)
   */
  public void onAck(long now, long rttMillis, long bytes, long inFlightBytes) {
    if (rttMillis < 0 || bytes <= 0) {
      return;
    }
    lastRtt = rttMillis;
    addBase(now, rttMillis);
    addRate(now, rttMillis, bytes);
    current.addLast(new long[] {now, rttMillis});
    while (current.size() > MAX_CURRENT_SAMPLES
        || (current.size() > config.currentSamples() && now - current.peekFirst()[0] > config.currentSpanMillis())) {
      current.removeFirst();
    }

    long queuing = queuingDelayMillis();
    double target = config.targetMillis();
    if (slowStart && rttMillis - baseDelayMillis() >= target / 2) {
      // the first sample that rose ends slow start, not the filtered delay: the filter lags by a few
      // samples, and while the window doubles per RTT those few overfilled a deep buffer
      slowStart = false;
    }
    if (queuing > target) {
      slowStart = false;
      // shrink by up to maxDecrease of the window per window's worth of bytes acknowledged
      double cut = config.multiplicativeDecrease() > 0
          ? config.multiplicativeDecrease() * (queuing - target) / target * bytes // that fraction of the window per RTT
          : config.gain() * (queuing - target) / target * bytes * config.unitBytes() / window; // that many units
      window -= Math.min(config.maxDecrease() * bytes, cut);
    } else if (slowStart && queuing < target / 2) {
      window += bytes;
    } else {
      slowStart = false;
      double offTarget = (target - queuing) / target;
      double scale = config.gain() * offTarget * bytes / window; // per RTT: gain × off-target × what follows
      double growth = scale * config.growthBytesPerRtt();
      if (window < goodWindow) {
        // below the window that last held the queue at the target (the other traffic left): close
        // recoveryShare of the gap per RTT, never past it — that window did not overfill the link
        growth = Math.max(growth, Math.min(goodWindow - window, scale * config.recoveryShare() * (goodWindow - window)));
      }
      window += growth;
      if (queuing >= target / 2 && lastRate >= config.goodRateShare() * bestRateBytesPerMilli()) {
        // a standing queue within the target while we get near the best rate seen: this window fills
        // the link, no more (at the floor behind another flow's sawtooth the queue passes the band too,
        // but then we get a few percent of what we got alone)
        goodWindow = window;
      }
    }
    // RFC 6817's allowed increase: never more than what was in flight plus two units. With no queue to
    // speak of (under half the target) what was in flight is the most over the last RTT or two (as RFC
    // 7661 measures a flow's use over an RTT), not what is left after this piece: on a lossy path TCP
    // hands pieces over in bursts (every piece behind a lost segment waits for its retransmission, then
    // they all arrive at once), the bytes in flight fall to ~0 within the burst, and capping the window
    // there held it near a piece and two units with the link half empty (BENCHMARKS 12.63). With a
    // queue, what is left in flight, as before: that cap is part of how fast we yield.
    long recentPeak = recentInFlightPeak(now, inFlightBytes + bytes);
    double used = queuing < target / 2 ? recentPeak : inFlightBytes + bytes;
    window = Math.min(window, used + 2.0 * config.unitBytes());
    window = Math.max(config.minWindowBytes(), Math.min(window, config.maxWindowBytes()));
  }

  /**
   * The most bytes in flight before any piece of this RTT and the last one (two buckets of one RTT
   * each, the last RTT sampled), counting {@code inFlightBefore}: what the allowed increase measures.
   */
  private long recentInFlightPeak(long now, long inFlightBefore) {
    long rtt = Math.max(1, lastRtt);
    if (peakSinceMillis == Long.MIN_VALUE || now - peakSinceMillis >= rtt) {
      previousPeak = peakSinceMillis != Long.MIN_VALUE && now - peakSinceMillis < 2 * rtt ? peak : 0;
      peak = 0;
      peakSinceMillis = now;
    }
    peak = Math.max(peak, inFlightBefore);
    return Math.max(peak, previousPeak);
  }

  /** A request timed out: halve the window, at most once per RTT. */
  public void onLoss(long now) {
    long rtt = lastRtt < 0 ? 1000 : Math.max(1, lastRtt);
    if (lastLossMillis != Long.MIN_VALUE && now - lastLossMillis < rtt) {
      return;
    }
    lastLossMillis = now;
    slowStart = false;
    window = Math.max(config.minWindowBytes(), window / 2);
  }

  /**
   * True if a request of {@code bytes} may go now with {@code inFlightBytes} outstanding. A window
   * smaller than one request still lets one go when nothing is in flight, but only every
   * {@code bytes / window} RTTs, so the rate stays at window / RTT. Call {@link #onRequestSent}.
   */
  public boolean mayRequest(long now, long inFlightBytes, long bytes) {
    if (inFlightBytes + bytes <= window) {
      return true;
    }
    if (inFlightBytes > 0) {
      return false;
    }
    return lastSentMillis == Long.MIN_VALUE || now - lastSentMillis >= (long) millisToSend(bytes);
  }

  /**
   * When a request of {@code bytes} may go with nothing in flight: Long.MIN_VALUE (any time) if it
   * fits the window, else one spacing ({@link #mayRequest}) after the last request.
   */
  public long nextRequestMillis(long bytes) {
    if (bytes <= window || lastSentMillis == Long.MIN_VALUE) {
      return Long.MIN_VALUE;
    }
    return lastSentMillis + (long) millisToSend(bytes);
  }

  /**
   * The window as a rate: window / RTT, in bytes per millisecond, with the last RTT sampled ({@link
   * #onAck} or {@link #onRtt}); Double.MAX_VALUE before any RTT (or at 0 ms). What spaces the
   * requests of a window smaller than one request ({@link #mayRequest}) and what a seed's {@link
   * UploadPacer} serves at.
   */
  public double rateBytesPerMilli() {
    return lastRtt <= 0 ? Double.MAX_VALUE : window / lastRtt;
  }

  /**
   * How long {@code bytes} take at window / RTT, the RTT being the current delay (the minimum of the
   * last few samples, {@link #queuingDelayMillis}'s filter) when there are samples, else the last RTT
   * (0 before any). Not the last raw sample: behind another flow's standing queue that is ~400 ms, and
   * a window below one request spaced by it asks next to nothing for seconds after the queue drained.
   */
  public double millisToSend(double bytes) {
    long rtt = current.isEmpty() ? lastRtt : currentDelayMillis();
    return rtt <= 0 ? 0 : rtt * (bytes / window);
  }

  /** The path's round trip is {@code rttMillis} now, without a delay sample (nothing was acknowledged). */
  public void onRtt(long rttMillis) {
    if (rttMillis >= 0) {
      lastRtt = rttMillis;
    }
  }

  /**
   * Forgets the delay samples (base history and current filter), keeping the window and the rates:
   * the samples change kind (timed pieces before, the path's TCP RTT from now on).
   */
  public void clearDelays() {
    baseHistory.clear();
    current.clear();
  }

  /** The last RTT sampled; -1 before any. */
  public long rttMillis() {
    return lastRtt;
  }

  /** "window W KiB{extra}, base B ms, queuing Q ms": a pacer's log line for one peer. */
  String describe(String afterWindow) {
    return "window " + (windowBytes() >> 10) + " KiB" + afterWindow + ", base " + baseDelayMillis() + " ms, queuing "
        + queuingDelayMillis() + " ms";
  }

  public void onRequestSent(long now) {
    lastSentMillis = now;
  }

  public long windowBytes() {
    return (long) window;
  }

  /** Base delay: the least delay seen over the history; -1 before any sample. */
  public long baseDelayMillis() {
    long min = Long.MAX_VALUE;
    for (long[] b : baseHistory) {
      min = Math.min(min, b[1]);
    }
    return min == Long.MAX_VALUE ? -1 : min;
  }

  /** Current delay − base delay; 0 before any sample. */
  public long queuingDelayMillis() {
    return current.isEmpty() ? 0 : Math.max(0, currentDelayMillis() - baseDelayMillis());
  }

  /** The minimum of the recent samples (the current delay); Long.MAX_VALUE before any. */
  private long currentDelayMillis() {
    long cur = Long.MAX_VALUE;
    for (long[] c : current) {
      cur = Math.min(cur, c[1]);
    }
    return cur;
  }

  /** The window recovery grows back towards (0: none yet). */
  long goodWindowBytes() {
    return (long) goodWindow;
  }

  /** The best rate received over the base delay's history, bytes per ms (0 before a round closed). */
  double bestRateBytesPerMilli() {
    double best = 0;
    for (double[] b : bestRates) {
      best = Math.max(best, b[1]);
    }
    return best;
  }

  /** Counts {@code bytes} into the rate received; closes a round after max(RATE_ROUND_MILLIS, RTT). */
  private void addRate(long now, long rttMillis, long bytes) {
    if (roundStartMillis == Long.MIN_VALUE) {
      roundStartMillis = now - rttMillis; // the first piece was asked for then
    }
    roundBytes += bytes;
    long span = now - roundStartMillis;
    if (span < Math.max(RATE_ROUND_MILLIS, rttMillis)) {
      return;
    }
    lastRate = (double) roundBytes / span;
    roundBytes = 0;
    roundStartMillis = now;
    double[] last = bestRates.peekLast();
    if (last == null || now - (long) last[0] >= config.baseIntervalMillis()) {
      bestRates.addLast(new double[] {now, lastRate});
      while (bestRates.size() > config.baseBuckets()) {
        bestRates.removeFirst(); // a link that got slower is forgotten as its base delay would be
      }
    } else {
      last[1] = Math.max(last[1], lastRate);
    }
  }

  private void addBase(long now, long delay) {
    long[] last = baseHistory.peekLast();
    if (last == null || now - last[0] >= config.baseIntervalMillis()) {
      baseHistory.addLast(new long[] {now, delay});
      while (baseHistory.size() > config.baseBuckets()) {
        baseHistory.removeFirst(); // a route that changed is forgotten after the history's length
      }
    } else {
      last[1] = Math.min(last[1], delay);
    }
  }
}
