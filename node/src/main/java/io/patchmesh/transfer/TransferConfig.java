package io.patchmesh.transfer;

/**
 * Knobs of the {@link ChunkPicker} and its helpers. Immutable; {@link #defaults()} documents the
 * values we start from.
 *
 * @param minPipeline fewest requests kept in flight per peer (2: one in transit, one queued at the
 *     sender, so the sender never idles waiting for our next request)
 * @param maxPipeline most requests in flight per peer (64: bounds memory at the sender and what a
 *     timeout or disconnect throws away)
 * @param initialPipeline depth before a peer has been measured
 * @param ewmaAlpha weight of a new sample in throughput and RTT averages (0.25: smooths chunk-size
 *     jitter, still follows a link change within a handful of chunks)
 * @param initialRequestTimeoutMillis timeout of a request to a peer never measured
 * @param minRequestTimeoutMillis floor for measured timeouts (a fast LAN must not time out on a GC
 *     pause)
 * @param requestTimeoutFactor timeout = factor × the expected arrival time from RTT and throughput
 * @param rejectBackoffMillis after a peer rejects a chunk (busy, not-have), do not ask it for that
 *     chunk for this long
 * @param siteWaitFactor site-wait grace = factor × the expected time between two WAN chunks of one
 *     member (3: a shared link delivers unevenly; 2 fires too early under jitter)
 * @param initialSiteWaitMillis grace before any WAN chunk has been measured
 * @param minSiteWaitMillis floor of the grace
 * @param maxSiteWaitMillis ceiling of the grace (a member silent this long is stalled however slow
 *     the link)
 * @param endgameMaxCopies in endgame, at most this many requests in flight for one chunk
 * @param wanMinRequestTimeoutMillis floor for requests to WAN peers (0 = none; nodes use 60,000): giving up on a WAN
 *     request and asking elsewhere makes the site's link carry the chunk twice if the first copy
 *     was merely slow (a queue at the source, a busy CPU); a dead source is noticed by its link
 *     closing, not by this timer
 */
public record TransferConfig(
    int minPipeline,
    int maxPipeline,
    int initialPipeline,
    double ewmaAlpha,
    long initialRequestTimeoutMillis,
    long minRequestTimeoutMillis,
    double requestTimeoutFactor,
    long rejectBackoffMillis,
    double siteWaitFactor,
    long initialSiteWaitMillis,
    long minSiteWaitMillis,
    long maxSiteWaitMillis,
    int endgameMaxCopies,
    long wanMinRequestTimeoutMillis) {

  public TransferConfig {
    if (minPipeline < 1 || maxPipeline < minPipeline) {
      throw new IllegalArgumentException("pipeline bounds " + minPipeline + ".." + maxPipeline);
    }
    if (initialPipeline < minPipeline || initialPipeline > maxPipeline) {
      throw new IllegalArgumentException("initial pipeline outside bounds");
    }
    if (!(ewmaAlpha > 0 && ewmaAlpha <= 1)) {
      throw new IllegalArgumentException("ewmaAlpha must be in (0,1]");
    }
    if (endgameMaxCopies < 1) {
      throw new IllegalArgumentException("endgameMaxCopies must be >= 1");
    }
    if (minSiteWaitMillis > maxSiteWaitMillis) {
      throw new IllegalArgumentException("site wait bounds");
    }
  }

  public static TransferConfig defaults() {
    return new TransferConfig(2, 64, 4, 0.25, 20_000, 2_000, 4.0, 1_000, 3.0, 10_000, 2_000, 120_000, 2, 0);
  }

  public TransferConfig withSiteWait(long initialMillis, long minMillis, long maxMillis) {
    return new TransferConfig(
        minPipeline, maxPipeline, initialPipeline, ewmaAlpha, initialRequestTimeoutMillis,
        minRequestTimeoutMillis, requestTimeoutFactor, rejectBackoffMillis, siteWaitFactor,
        initialMillis, minMillis, maxMillis, endgameMaxCopies, wanMinRequestTimeoutMillis);
  }

  public TransferConfig withRequestTimeouts(long initialMillis, long minMillis, double factor) {
    return new TransferConfig(
        minPipeline, maxPipeline, initialPipeline, ewmaAlpha, initialMillis, minMillis, factor,
        rejectBackoffMillis, siteWaitFactor, initialSiteWaitMillis, minSiteWaitMillis,
        maxSiteWaitMillis, endgameMaxCopies, wanMinRequestTimeoutMillis);
  }

  public TransferConfig withWanMinRequestTimeout(long millis) {
    return new TransferConfig(
        minPipeline, maxPipeline, initialPipeline, ewmaAlpha, initialRequestTimeoutMillis,
        minRequestTimeoutMillis, requestTimeoutFactor, rejectBackoffMillis, siteWaitFactor,
        initialSiteWaitMillis, minSiteWaitMillis, maxSiteWaitMillis, endgameMaxCopies, millis);
  }

  public TransferConfig withEndgameMaxCopies(int copies) {
    return new TransferConfig(
        minPipeline, maxPipeline, initialPipeline, ewmaAlpha, initialRequestTimeoutMillis,
        minRequestTimeoutMillis, requestTimeoutFactor, rejectBackoffMillis, siteWaitFactor,
        initialSiteWaitMillis, minSiteWaitMillis, maxSiteWaitMillis, copies, wanMinRequestTimeoutMillis);
  }
}
