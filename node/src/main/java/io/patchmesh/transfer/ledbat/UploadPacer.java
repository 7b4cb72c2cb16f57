package io.patchmesh.transfer.ledbat;

import io.patchmesh.net.NodeId;

/**
 * Sender-side yielding for a seed's WAN uploads, for when the seed's own uplink is the bottleneck
 * and its requesters do not pace themselves (an agent with {@code wan-yield: off}, an old one): one
 * {@link Ledbat} window per WAN requester, fed by the round trip its TCP connection measures (the
 * kernel's smoothed RTT, which grows with the queue at the seed's uplink), turned into a serving
 * rate of window / RTT ({@link Ledbat#rateBytesPerMilli}). Rate-based rather than a window over
 * unacknowledged bytes because the seed cannot see which of a piece's bytes were acknowledged
 * (TCP_INFO has no byte count in the transport we use), only the path's RTT; the bytes served during
 * one sample interval stand in for the bytes acknowledged (they are, one RTT later).
 *
 * <p>Sans-I/O: fed the time with every call. Inputs: {@link #onServed} (a piece went to the link),
 * {@link #onRttSample} (the connection's smoothed RTT, read by the driver every so often while it
 * serves), {@link #forget}. Questions: {@link #mayServe}, {@link #nextServeMillis}, {@link #hasRtt}.
 * LAN requesters never come here (the serving core, {@code transfer/swarm/UploadPacing}, asks only
 * for WAN ones).
 */
public final class UploadPacer extends PeerWindows<UploadPacer.Flow> {
  /** One WAN requester: its window, and the token bucket that turns it into a rate. */
  static final class Flow extends PeerWindows.Flow {
    /** Bytes served since the last RTT sample: the "acknowledged" bytes of the next one. */
    long servedSinceSample;
    long lastSampleMillis = Long.MIN_VALUE;
    long lastServedMillis = Long.MIN_VALUE;
    /** Bytes that may go now (the bucket), refilled at window / RTT, at most one window. */
    double tokens;
    long lastRefillMillis = Long.MIN_VALUE;

    Flow(LedbatConfig config) {
      super(config);
      tokens = config.initialWindowBytes();
    }

    boolean hasRtt() {
      return ledbat.rttMillis() > 0;
    }

    void refill(long now) {
      if (lastRefillMillis != Long.MIN_VALUE && now > lastRefillMillis && hasRtt()) {
        tokens = Math.min(Math.max(ledbat.windowBytes(), tokens), tokens + (now - lastRefillMillis) * ledbat.rateBytesPerMilli());
      }
      lastRefillMillis = now;
    }
  }

  public UploadPacer(LedbatConfig config) {
    super(config, Flow::new);
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

  /**
   * When the next piece of {@code bytes} to {@code peer} may go: now, later (the core's timer), or
   * Long.MAX_VALUE if the bucket is spent and no RTT is known to refill it (the next sample decides).
   */
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
    double rate = f.ledbat.rateBytesPerMilli();
    return rate == Double.MAX_VALUE ? Long.MAX_VALUE : now + Math.max(1, (long) Math.ceil(need / rate));
  }

  /** The rate {@code peer} is served at now, window / RTT in bytes per ms (Double.MAX_VALUE: not paced yet). */
  public double rateBytesPerMilli(NodeId peer) {
    Flow f = flows.get(peer);
    return f == null ? Double.MAX_VALUE : f.ledbat.rateBytesPerMilli();
  }

  /** True once {@code peer}'s connection has given an RTT: before that nothing paces it (no samples, no pacing). */
  public boolean hasRtt(NodeId peer) {
    Flow f = flows.get(peer);
    return f != null && f.hasRtt();
  }

  /**
   * {@code bytes} went to {@code peer}'s link (negative: fewer went than were counted, e.g. a piece
   * granted whole went as a smaller delta, or not at all).
   */
  public void onServed(NodeId peer, long bytes, long now) {
    Flow f = flow(peer);
    f.refill(now);
    f.tokens -= bytes;
    f.servedSinceSample = Math.max(0, f.servedSinceSample + bytes);
    f.lastServedMillis = now;
  }

  /** True if {@code peer} was served within {@code millis} of {@code now}: its RTT is worth reading. */
  public boolean servedWithin(NodeId peer, long now, long millis) {
    Flow f = flows.get(peer);
    return f != null && f.lastServedMillis != Long.MIN_VALUE && now - f.lastServedMillis <= millis;
  }

  /**
   * {@code peer}'s connection measures a smoothed RTT of {@code rttMillis} now: a delay sample, with
   * what was served since the last one as the bytes it acknowledges. Samples with nothing served
   * since the last one only refresh the RTT (an idle connection's RTT says nothing of our queue). The
   * first RTT starts the bucket's refill; what was served before it, unpaced, is not owed.
   */
  public void onRttSample(NodeId peer, long now, long rttMillis) {
    Flow f = flows.get(peer);
    if (f == null || rttMillis <= 0) {
      return;
    }
    f.refill(now);
    if (!f.hasRtt()) {
      f.tokens = Math.max(0, f.tokens);
    }
    long since = f.lastSampleMillis == Long.MIN_VALUE ? 0 : now - f.lastSampleMillis;
    f.lastSampleMillis = now;
    f.ledbat.onRtt(rttMillis);
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

  /** One line per WAN requester for the log (null if none): window, RTT, base and queuing delay. */
  public String describe() {
    return describe("upload-yield:");
  }

  @Override
  String describeExtra(Flow f) {
    return ", rtt " + f.ledbat.rttMillis() + " ms";
  }
}
