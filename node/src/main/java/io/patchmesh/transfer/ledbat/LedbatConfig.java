package io.patchmesh.transfer.ledbat;

/**
 * The knobs of {@link Ledbat}, with RFC 6817's defaults where it has them.
 *
 * @param targetMillis queuing delay we may add to the link (RFC 6817: at most 100 ms)
 * @param gain additive increase per RTT in units of {@code unitBytes} at zero queuing delay (RFC: 1)
 * @param unitBytes the "MSS" of the request window: the size of a typical request (a chunk piece)
 * @param initialWindowBytes window before any sample
 * @param minWindowBytes never below this; it may be below one request: requests are then spaced
 *     out ({@link Ledbat#mayRequest}) so the rate stays window / RTT and delay is still measured
 * @param maxWindowBytes never above this (memory and fairness bound)
 * @param baseIntervalMillis length of one base-delay bucket (RFC: 1 minute)
 * @param baseBuckets buckets of base-delay history (RFC: 10): a route change is forgotten after this many
 * @param currentSamples samples the current delay is the minimum of (RFC: a few; filters noise)
 * @param maxDecrease at most this fraction of the window goes per RTT when over target (LEDBAT++ style: 0.5)
 * @param currentSpanMillis the current delay is also the minimum over the samples of this long (0: the
 *     last {@code currentSamples} only): scheduling jitter only ever adds delay, a queue adds it to every
 *     sample, so the minimum over a span longer than the jitter's bursts tells one from the other
 * @param growthBytesPerRtt what the window grows by per RTT at zero queuing delay, times {@code gain}
 *     (RFC 6817: one unit)
 * @param multiplicativeDecrease 0: above the target the window loses {@code gain × (queuing − target) /
 *     target} units per RTT (RFC 6817); else it loses this constant times {@code (queuing − target) /
 *     target} of itself per RTT (LEDBAT++: 1)
 * @param recoveryShare 0: below the target the window grows by {@code growthBytesPerRtt} only; else,
 *     while it is below the window that last held the queue between half the target and the target
 *     (the "good" window, which the other traffic's arrival cut it from), it closes this share of
 *     the gap per RTT, times the off-target — never past the good window
 * @param goodRateShare 0: any window that holds the queue in [target/2, target] becomes the good window;
 *     else only one whose rate received (over the last half second) is at least this share of the best
 *     rate received over the base delay's history: a window yielded to the floor, whose few samples
 *     see another flow's sawtooth pass through the band, is not a window that filled the link
 */
public record LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
    long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease,
    long currentSpanMillis, long growthBytesPerRtt, double multiplicativeDecrease, double recoveryShare,
    double goodRateShare) {

  /** The good window from the queue alone (see {@link #goodRateShare}). */
  public LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
      long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease,
      long currentSpanMillis, long growthBytesPerRtt, double multiplicativeDecrease, double recoveryShare) {
    this(targetMillis, gain, unitBytes, initialWindowBytes, minWindowBytes, maxWindowBytes, baseIntervalMillis,
        baseBuckets, currentSamples, maxDecrease, currentSpanMillis, growthBytesPerRtt, multiplicativeDecrease,
        recoveryShare, 0);
  }

  /** No recovery growth (see {@link #recoveryShare}). */
  public LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
      long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease,
      long currentSpanMillis, long growthBytesPerRtt, double multiplicativeDecrease) {
    this(targetMillis, gain, unitBytes, initialWindowBytes, minWindowBytes, maxWindowBytes, baseIntervalMillis,
        baseBuckets, currentSamples, maxDecrease, currentSpanMillis, growthBytesPerRtt, multiplicativeDecrease, 0);
  }

  /** RFC 6817's growth (a unit per RTT) and linear decrease. */
  public LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
      long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease,
      long currentSpanMillis) {
    this(targetMillis, gain, unitBytes, initialWindowBytes, minWindowBytes, maxWindowBytes, baseIntervalMillis,
        baseBuckets, currentSamples, maxDecrease, currentSpanMillis, unitBytes, 0, 0);
  }

  /** With the current delay over {@code currentSamples} samples only (no time span). */
  public LedbatConfig(long targetMillis, double gain, long unitBytes, long initialWindowBytes, long minWindowBytes,
      long maxWindowBytes, long baseIntervalMillis, int baseBuckets, int currentSamples, double maxDecrease) {
    this(targetMillis, gain, unitBytes, initialWindowBytes, minWindowBytes, maxWindowBytes, baseIntervalMillis,
        baseBuckets, currentSamples, maxDecrease, 0);
  }

  public LedbatConfig {
    if (targetMillis <= 0 || targetMillis > 100) {
      throw new IllegalArgumentException("target must be 1-100 ms (RFC 6817)");
    }
    if (unitBytes <= 0 || minWindowBytes <= 0 || maxWindowBytes < minWindowBytes
        || initialWindowBytes < minWindowBytes || initialWindowBytes > maxWindowBytes) {
      throw new IllegalArgumentException("need unit <= min <= initial <= max window");
    }
    if (gain <= 0 || baseIntervalMillis <= 0 || baseBuckets < 1 || currentSamples < 1 || maxDecrease <= 0 || maxDecrease >= 1
        || currentSpanMillis < 0 || growthBytesPerRtt <= 0 || multiplicativeDecrease < 0 || recoveryShare < 0
        || recoveryShare > 1 || goodRateShare < 0 || goodRateShare > 1) {
      throw new IllegalArgumentException("bad LEDBAT parameters");
    }
  }

  /** Target 100 ms, gain 1, 64 KiB requests, window 4 KiB .. 16 MiB starting at 256 KiB. */
  public static LedbatConfig defaults() {
    long unit = 64 * 1024;
    return new LedbatConfig(100, 1.0, unit, 4 * unit, 4 * 1024, 16L << 20, 60_000, 10, 4, 0.5);
  }

  /**
   * What {@code wan-yield: ledbat} paces chunk requests with. Two departures from {@link #defaults},
   * both measured against the delay model of RequestPacerTest (10 Mbit/s, 40 ms, a 300 ms buffer):
   *
   * <ul>
   *   <li>target 40 ms, not 100: a request's sample includes its own piece crossing the bottleneck
   *       (52 ms for 64 KiB at 10 Mbit/s), which the base delay holds only once, so what others see
   *       added is the target plus part of a piece; 40 keeps the model's mean queue within RFC 6817's
   *       100 ms (t17b chose 50 with a multiplicative decrease; with the linear decrease the queue
   *       settles higher: 45 gave 102 ms, 40 gives under 100). The link still stays full: the window
   *       covers the path's bytes plus the target's.
   *   <li>min window 12 KiB, not 4: below one request (a whole chunk, ~64 KiB) requests are spaced
   *       out ({@link Ledbat#mayRequest}), one per {@code chunk / window} RTTs; behind a full 300 ms
   *       buffer that is one every ~2 s at 12 KiB (about 2.5% of a 10 Mbit/s link) but every ~6 s
   *       at 4 KiB — and a request is also the only probe of whether the other traffic has gone, so
   *       4 KiB took over 6 s to take the link back, 12 KiB about 3.
   *   <li>the current delay is the minimum of the last 6 samples, not 4: a sample is a whole piece
   *       (~40 KiB on average, ~30 a second at 10 Mbit/s), so 4 spanned ~130 ms, and one stall of
   *       the sender or of our own loop read as queuing and halved the window; 6 span ~200 ms at
   *       full rate, well within one RTT of a full 300 ms buffer (8 let the model's queue drift
   *       to the 100 ms limit: the filter lags a growing queue). No time span on top of that
   *       ({@code currentSpanMillis} 0): a minimum over 500 or 1000 ms filtered jitter better but
   *       lagged our own growing queue into 105-160 ms means on RequestPacerTest's model.
   * </ul>
   *
   * <p>Third pass (t17d-yield; two agents of one site on {@code SiteLinkModel}, RequestPacerSiteTest),
   * because two agents sharing the site link added 200-300 ms at the ping's p95 (bench yield, second
   * pass) and one of them took 95% of the link:
   *
   * <ul>
   *   <li>growth 8 KiB per RTT at zero delay, not a unit: a unit is a whole chunk, 52 ms of a 10 Mbit/s
   *       link (more than the path's bytes), and the delay comes back a few samples late, so a unit
   *       per RTT overshot by a piece or two every cycle;
   *   <li>a multiplicative decrease (LEDBAT++'s form, half its constant): above the target the window
   *       loses 0.5 × (queuing − target) / target of itself per RTT. With the same additive growth
   *       for every agent and cuts in proportion to each one's window, a site's agents converge to
   *       equal shares (the linear cut took the same bytes from both, and the smaller sat at the
   *       floor while the larger kept the link: 0.05 / 0.95). With LEDBAT++'s constant 1 two agents
   *       queued less (p95 86-137 ms) but one agent alone filled only 0.90 of the link;
   *   <li>initial window one unit, not four, and slow start ends on the first sample whose delay rose
   *       by half the target (not the filtered one): two agents' 256 KiB each plus a few doublings
   *       overfilled the 375 KB buffer before the filtered delay moved;
   *   <li>the current delay is the minimum of 4 samples again, not 6: with two agents, 6 of one's
   *       pieces span 12 pieces on the link, over half a second of lag.
   * </ul>
   *
   * <p>Two agents on the model, over bench yield's alone window (3-13 s after the first MiB), the
   * second starting 0, 0.3 or 2 s after the first: queue p95 135-164 ms without jitter (before:
   * 196-296) and 135-151 ms with 0-30 ms of it (before: 197-312), link use 0.96-1.0, each agent
   * 0.47-0.53 of it (before: 0.04-0.96), back at 90 % 2.5-3.5 s after the other flow leaves. Still
   * above the 100 ms goal on this model: its queue grows in whole chunks (52 ms each). The price:
   * with 0-100 ms of jitter (a machine at load 40+ on 2 cores) it fills an idle link less
   * (0.73-0.80; before 0.91-0.95) and does not take it back within 20 s (RequestPacerJitterTest).
   *
   * <p>Fourth pass (t17i-yield, session 9): recoveryShare 0.5. After the other flow leaves, a window cut to
   * the floor grew back by 8 KiB × off-target per RTT, and on the testbed the off-target stays small:
   * a sample carries its own chunk's serialization (8-128 KiB, 6-105 ms at 10 Mbit/s) and the other
   * agent's queue, so a window could need seconds to climb back (bench yield: 2.25 s in one quiet run,
   * 7.0 s in the next). Now it closes half the gap to the window that last held the queue at the target
   * per RTT (times the off-target), never past it, so it overshoots nothing it had not already shown to
   * be within the target. On SiteLinkModel with FastCDC's chunk sizes, 6 seeds x jitter 0/10/20/30 ms:
   * back at 90 % within 1.75-4.5 s (before 1.75-5.5 s), the queue's p95 73-127 ms (before 86-137),
   * 0.044-0.062 of the link beside the other flow (unchanged). RequestPacerRecoveryTest.
   *
   * <p>Sixth pass (t17l-yield, session 11): goodRateShare 0.4. Another flow's CUBIC sawtooth passes the
   * queue through the target's band while our window sits at the floor, and each pass made the floor the
   * good window (bench yield, fifth pass: 8.75 s to take the link back). Now the window is good only
   * while we receive at least 0.4 of the best rate seen: a site's two agents alone get ~0.5 each of what
   * one got alone; at the floor behind another flow an agent gets a few percent. RequestPacerRecoveryTest's
   * sawtooth cases and LedbatTest.
   */
  public static LedbatConfig forRequests() {
    long unit = 64 * 1024;
    return new LedbatConfig(40, 1.0, unit, unit, 12 * 1024, 16L << 20, 60_000, 10, 4, 0.5, 0, 8 * 1024, 0.5, 0.5, 0.4);
  }

  /**
   * What a seed's {@code upload-yield: ledbat} serves each WAN requester with ({@link UploadPacer}):
   * the request pacer's numbers ({@link #forRequests}), because the same 10 Mbit/s link with a deep
   * buffer is what it protects. Its samples are the TCP connection's smoothed RTT, read every 100 ms,
   * so they carry no piece's own serialization; the window becomes a rate of window / RTT.
   */
  public static LedbatConfig forUploads() {
    return forRequests();
  }

  /**
   * The pacing a seed's {@code upload-yield} setting asks for: {@link #forUploads} for {@code
   * ledbat}, null (no pacing) for {@code off}. The setting was checked when the config was read.
   */
  public static LedbatConfig ofUploadSetting(String uploadYield) {
    return switch (uploadYield) {
      case "ledbat" -> forUploads();
      case "off" -> null;
      default -> throw new IllegalArgumentException("upload-yield: " + uploadYield);
    };
  }

  /**
   * The pacing a node's {@code wan-yield} setting asks for: {@link #forRequests} for {@code ledbat},
   * null (no pacing) for {@code off}. The setting was checked when the config was read.
   */
  public static LedbatConfig ofSetting(String wanYield) {
    return switch (wanYield) {
      case "ledbat" -> forRequests();
      case "off" -> null;
      default -> throw new IllegalArgumentException("wan-yield: " + wanYield);
    };
  }
}
