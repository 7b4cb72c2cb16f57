package io.patchmesh.transfer.ledbat;

import io.patchmesh.net.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * Sender-side yielding for a seed's WAN uploads, for when the seed's own uplink is the bottleneck
 * and its requesters do not pace themselves (an agent with {@code wan-yield: off}, an old one): one
 * {@link Ledbat} window per WAN requester, fed by the round trip its TCP connection measures (the
 * kernel's smoothed RTT, which grows with the queue at the seed's uplink), turned into a serving
 * rate of window / RTT. Rate-based rather than a window over unacknowledged bytes because the
 * seed cannot see which of a piece's bytes were acknowledged (TCP_INFO has no byte count in the
 * transport we use), only the path's RTT; the bytes served during one sample interval stand in for
 * the bytes acknowledged (they are, one RTT later).
 *
 * <p>Sans-I/O: fed the time with every call. Inputs: {@link #onServed} (a piece went to the link),
 * {@link #onRttSample} (the connection's smoothed RTT, read by the driver every so often while it
 * serves), {@link #forget}. Questions: {@link #mayServe}, {@link #nextServeMillis}. LAN requesters
 * never come here.
 */
public final class UploadPacer {
  private final LedbatConfig config;
  private final Map<NodeId, Flow> flows = new HashMap<>();

  /** One WAN requester: its window, and the token bucket that turns it into a rate. */
  private static final class Flow {
    final Ledbat ledbat;
    /** Bytes served since the last RTT sample: the "acknowledged" bytes of the next one. */
    long servedSinceSample;
    long lastSampleMillis = Long.MIN_VALUE;
    long rttMillis = -1;
    /** Bytes that may go now (the bucket), refilled at window / RTT, at most one window. */
    double tokens;
    long lastRefillMillis = Long.MIN_VALUE;

    Flow(LedbatConfig config) {
      ledbat = new Ledbat(config);
      tokens = config.initialWindowBytes();
    }

    double rateBytesPerMilli() {
      return rttMillis <= 0 ? Double.MAX_VALUE : (double) ledbat.windowBytes() / rttMillis;
    }

    void refill(long now) {
      if (lastRefillMillis != Long.MIN_VALUE && now > lastRefillMillis && rttMillis > 0) {
        tokens = Math.min(Math.max(ledbat.windowBytes(), tokens), tokens + (now - lastRefillMillis) * rateBytesPerMilli());
      }
      lastRefillMillis = now;
    }
  }

  public UploadPacer(LedbatConfig config) {
    this.config = config;
  }

  public LedbatConfig config() {
    return config;
  }

  private Flow flow(NodeId peer) {
    return flows.computeIfAbsent(peer, p -> new Flow(config));
  }

  /**
   * True if a piece of {@code bytes} may go to {@code peer} now: the bucket holds it, or it holds
   * something and the piece is larger than a whole window (a piece is never split; the bucket goes
   * negative and the next one waits longer).
   */
  public boolean mayServe(NodeId peer, long now, long bytes) {
    Flow f = flow(peer);
    f.refill(now);
    return f.tokens >= bytes || f.tokens > 0 && bytes > f.ledbat.windowBytes();
  }

  /** When the next piece of {@code bytes} to {@code peer} may go (now or later; the core's timer). */
  public long nextServeMillis(NodeId peer, long now, long bytes) {
    Flow f = flows.get(peer);
    if (f == null) {
      return now;
    }
    f.refill(now);
    double need = Math.min(bytes, f.ledbat.windowBytes()) - f.tokens;
    if (need <= 0 || f.tokens > 0 && bytes > f.ledbat.windowBytes()) {
      return now;
    }
    double rate = f.rateBytesPerMilli();
    return rate == Double.MAX_VALUE ? now : now + (long) Math.ceil(need / rate);
  }

  /** A piece of {@code bytes} went to {@code peer}'s link. */
  public void onServed(NodeId peer, long bytes, long now) {
    Flow f = flow(peer);
    f.refill(now);
    f.tokens -= bytes;
    f.servedSinceSample += bytes;
  }

  /**
   * {@code peer}'s connection measures a smoothed RTT of {@code rttMillis} now: a delay sample, with
   * what was served since the last one as the bytes it acknowledges. Samples with nothing served
   * since the last one only refresh the RTT (an idle connection's RTT says nothing of our queue).
   */
  public void onRttSample(NodeId peer, long now, long rttMillis) {
    Flow f = flows.get(peer);
    if (f == null || rttMillis <= 0) {
      return;
    }
    f.refill(now);
    long since = f.lastSampleMillis == Long.MIN_VALUE ? 0 : now - f.lastSampleMillis;
    f.lastSampleMillis = now;
    f.rttMillis = rttMillis;
    long served = f.servedSinceSample;
    f.servedSinceSample = 0;
    if (served <= 0) {
      return;
    }
    // the allowed increase's "in flight": what we served per RTT beyond these bytes (an idle or
    // app-limited window does not grow past what it uses)
    long perRtt = since <= 0 ? served : (long) (served * (double) rttMillis / since);
    f.ledbat.onAck(now, rttMillis, served, Math.max(0, perRtt - served));
  }

  /** {@code peer}'s link went down: its window and samples go with it. */
  public void forget(NodeId peer) {
    flows.remove(peer);
  }

  /** The window towards {@code peer} (the initial one if we never served it). */
  public long windowBytes(NodeId peer) {
    Flow f = flows.get(peer);
    return f == null ? config.initialWindowBytes() : f.ledbat.windowBytes();
  }

  /** The queuing delay last measured towards {@code peer} (0 before any sample). */
  public long queuingDelayMillis(NodeId peer) {
    Flow f = flows.get(peer);
    return f == null ? 0 : f.ledbat.queuingDelayMillis();
  }

  /** One line per WAN requester for the log (null if none): window, RTT, base and queuing delay. */
  public String describe() {
    if (flows.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder("upload-yield:");
    flows.forEach((peer, f) -> b.append(' ').append(peer.shortHex()).append(" window ")
        .append(f.ledbat.windowBytes() >> 10).append(" KiB, rtt ").append(f.rttMillis).append(" ms, base ")
        .append(f.ledbat.baseDelayMillis()).append(" ms, queuing ").append(f.ledbat.queuingDelayMillis()).append(" ms;"));
    return b.toString();
  }
}
