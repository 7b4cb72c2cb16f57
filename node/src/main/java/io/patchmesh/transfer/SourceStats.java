package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * What we measured about each peer as a source of chunks: EWMA throughput and RTT, timeouts.
 * These rank WAN sources (fastest first), size pipelines ({@link PipelineSizer}) and set request
 * timeouts. Single-threaded.
 *
 * <p>Throughput is sampled per delivered chunk as bytes over the time since the later of the
 * request's send time and the previous arrival from that peer: while the pipeline is busy that is
 * the inter-arrival time, i.e. the rate the link actually gives us, not the request latency.
 *
 * <p>A timeout lowers the estimate to at most half of it and at most what the peer proved it can
 * do (one chunk in the timeout), so a slow peer sinks in the ranking and gets shallower pipelines.
 */
public final class SourceStats {
  private final double alpha;
  private final Map<NodeId, Source> sources = new HashMap<>();

  private static final class Source {
    final Ewma bytesPerSecond;
    final Ewma rttMillis;
    long lastArrivalMillis = Long.MIN_VALUE;
    int timeouts;

    Source(double alpha) {
      bytesPerSecond = new Ewma(alpha);
      rttMillis = new Ewma(alpha);
    }
  }

  public SourceStats(double alpha) {
    this.alpha = alpha;
  }

  private Source source(NodeId peer) {
    return sources.computeIfAbsent(peer, p -> new Source(alpha));
  }

  /** A chunk of {@code bytes} requested at {@code sentMillis} arrived from {@code peer}. */
  public void onDelivery(NodeId peer, int bytes, long sentMillis, long nowMillis) {
    Source s = source(peer);
    long start = Math.max(sentMillis, s.lastArrivalMillis);
    long interval = Math.max(1, nowMillis - start);
    s.bytesPerSecond.add(bytes * 1000.0 / interval);
    s.lastArrivalMillis = nowMillis;
  }

  /**
   * An RTT sample: from a ping, or from a request sent into an empty pipeline (its elapsed time
   * minus the transfer time). Samples taken with our own requests queued would count queueing as
   * delay and inflate pipelines, so callers should not feed those.
   */
  public void onRttSample(NodeId peer, double rttMillis) {
    source(peer).rttMillis.add(Math.max(0.1, rttMillis));
  }

  /** A request for {@code bytes} sent {@code elapsedMillis} ago to {@code peer} timed out. */
  public void onTimeout(NodeId peer, int bytes, long elapsedMillis) {
    Source s = source(peer);
    s.timeouts++;
    double provenAtMost = bytes * 1000.0 / Math.max(1, elapsedMillis);
    double current = s.bytesPerSecond.known() ? s.bytesPerSecond.value() / 2 : provenAtMost;
    s.bytesPerSecond.set(Math.min(current, provenAtMost));
  }

  /** Bytes per second, or NaN if never measured. */
  public double throughput(NodeId peer) {
    Source s = sources.get(peer);
    return s == null ? Double.NaN : s.bytesPerSecond.value();
  }

  /** Round-trip time in ms, or NaN if never measured. */
  public double rttMillis(NodeId peer) {
    Source s = sources.get(peer);
    return s == null ? Double.NaN : s.rttMillis.value();
  }

  public int timeouts(NodeId peer) {
    Source s = sources.get(peer);
    return s == null ? 0 : s.timeouts;
  }

  /**
   * Expected ms until a request of {@code bytes} sent now arrives behind {@code bytesAhead} already
   * requested bytes: RTT + (ahead + bytes) / throughput. NaN if not measured.
   */
  public double expectedArrivalMillis(NodeId peer, long bytesAhead, int bytes) {
    double tput = throughput(peer);
    if (Double.isNaN(tput) || tput <= 0) {
      return Double.NaN;
    }
    double rtt = rttMillis(peer);
    return (Double.isNaN(rtt) ? 0 : rtt) + (bytesAhead + bytes) * 1000.0 / tput;
  }

  public void forget(NodeId peer) {
    sources.remove(peer);
  }
}
