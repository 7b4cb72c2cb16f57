package io.patchmesh.mesh.sim;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Latency and loss between simulated nodes; deterministic for its seed. Under {@link
 * SimConfig.LossModel#DELAY} it also keeps each direction of each link in order, as TCP does.
 */
final class SimNetwork {
  /** Linux's TCP_RTO_MIN and TCP_RTO_MAX, in microseconds. */
  static final long MIN_RTO_MICROS = 200_000;
  static final long MAX_RTO_MICROS = 120_000_000;

  private final SimConfig config;
  private final int[] siteOf;
  private final SplittableRandom random;
  /**
   * DELAY only: when the last frame sent from a to b arrives, keyed a * N + b. Entries whose frame
   * has arrived are purged now and then, so this holds about the frames in flight.
   */
  private final Map<Long, Long> lastArrival = new HashMap<>();
  private int purgeAt = 4_096;

  SimNetwork(SimConfig config, int[] siteOf, SplittableRandom random) {
    this.config = config;
    this.siteOf = siteOf;
    this.random = random;
  }

  boolean lost() {
    return config.loss() > 0 && random.nextDouble() < config.loss();
  }

  /**
   * When a frame sent from {@code a} to {@code b} at {@code nowMicros} arrives, or -1 if it is lost
   * for good (DROP). DELAY: each lost transmission adds a retransmission timeout (doubling), and the
   * frame does not overtake an earlier one from a to b. Draws from the random stream in the same
   * order under both models up to the first loss, so loss 0 differs only in ordering.
   */
  long arrivalMicros(int a, int b, long nowMicros) {
    boolean lost = lost();
    if (lost && config.lossModel() == SimConfig.LossModel.DROP) {
      return -1;
    }
    long oneWay = latencyMicros(a, b);
    if (config.lossModel() == SimConfig.LossModel.DROP) {
      return nowMicros + oneWay;
    }
    long late = 0;
    long rto = 2 * oneWay + MIN_RTO_MICROS; // Linux: srtt + max(4 rttvar, TCP_RTO_MIN); rttvar is small here
    while (lost) {
      late += rto;
      rto = Math.min(2 * rto, MAX_RTO_MICROS);
      lost = lost();
    }
    return ordered((long) a * siteOf.length + b, nowMicros + oneWay + late, nowMicros);
  }

  private long ordered(long link, long arrival, long nowMicros) {
    Long last = lastArrival.get(link);
    long at = last == null ? arrival : Math.max(last, arrival);
    lastArrival.put(link, at);
    if (lastArrival.size() >= purgeAt) {
      lastArrival.values().removeIf(t -> t <= nowMicros);
      purgeAt = Math.max(4_096, 2 * lastArrival.size());
    }
    return at;
  }

  /** One-way latency of one frame from {@code a} to {@code b}, in microseconds. */
  long latencyMicros(int a, int b) {
    boolean same = siteOf[a] == siteOf[b];
    double min = same ? config.inSiteMinMillis() : config.crossSiteMinMillis();
    double max = same ? config.inSiteMaxMillis() : config.crossSiteMaxMillis();
    return Math.round((min + random.nextDouble() * (max - min)) * 1000.0);
  }
}
