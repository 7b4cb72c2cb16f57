package io.patchmesh.net.shaping;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * In-process WAN for tests and {@code bench swarm}: every Transport of one JVM
 * shares one emulator. Each site may have an uplink and a downlink rate; a frame
 * from site A to site B (A != B) waits for tokens from A's uplink and B's
 * downlink; traffic inside a site is LAN and unshaped. Counts WAN bytes per site
 * either way, shaped or not. Thread-safe.
 *
 * <p>A site can be {@link #cut} off: every byte across its WAN link is then held
 * where it was sent, as if the link blackholed packets. Sockets stay open and no
 * close reaches the other side (a real cut delivers no FIN either); new
 * connections across the cut hang in their handshake until it times out. On
 * {@link #restore} the held bytes flow again, like TCP retransmitting after the
 * link comes back; whatever the nodes closed meanwhile closes then.
 */
public final class WanEmulator {
  /** Burst of each link, as milliseconds of its rate: like a shallow router queue. */
  private static final long BURST_MILLIS = 100;

  private final LongSupplier nanoClock;
  private final Map<String, SiteLink> sites = new ConcurrentHashMap<>();
  private final Map<String, Counters> counters = new ConcurrentHashMap<>();
  /** Cut sites and when (nanoClock) each was cut. */
  private final Map<String, Long> cutSince = new ConcurrentHashMap<>();
  /** Where each node of the emulated WAN listens: lets a dialler know the site it dials before any Hello. */
  private final Map<String, String> listeners = new ConcurrentHashMap<>();

  public WanEmulator() {
    this(System::nanoTime);
  }

  public WanEmulator(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** Gives {@code site} a WAN link of these rates (bytes per second; 0 = unshaped in that direction). */
  public WanEmulator site(String site, long uplinkBytesPerSecond, long downlinkBytesPerSecond) {
    sites.put(site, new SiteLink(bucket(uplinkBytesPerSecond), bucket(downlinkBytesPerSecond)));
    return this;
  }

  /** Convenience: a symmetric link of {@code megabitsPerSecond}. */
  public WanEmulator siteMbit(String site, double megabitsPerSecond) {
    long bytes = (long) (megabitsPerSecond * 1_000_000 / 8);
    return site(site, bytes, bytes);
  }

  /** The buckets a frame from {@code from} to {@code to} must pass; empty inside a site. */
  public List<TokenBucket> path(String from, String to) {
    List<TokenBucket> buckets = new ArrayList<>(2);
    if (from.equals(to)) {
      return buckets;
    }
    link(from).flatMap(SiteLink::uplink).ifPresent(buckets::add);
    link(to).flatMap(SiteLink::downlink).ifPresent(buckets::add);
    return buckets;
  }

  /** Records {@code bytes} crossing the WAN from {@code from} to {@code to} (no-op inside a site). */
  public void recordSent(String from, String to, long bytes) {
    if (!from.equals(to)) {
      counters(from).out.add(bytes);
      counters(to).in.add(bytes);
    }
  }

  /** Cuts {@code site} off from every other site until {@link #restore}. No-op if already cut. */
  public void cut(String site) {
    cutSince.putIfAbsent(site, nanoClock.getAsLong());
  }

  /** Reconnects {@code site}; returns how long it was cut (zero if it was not). */
  public Duration restore(String site) {
    Long since = cutSince.remove(site);
    return since == null ? Duration.ZERO : Duration.ofNanos(nanoClock.getAsLong() - since);
  }

  /** How long {@code site} has been cut off so far (zero if it is not). */
  public Duration cutFor(String site) {
    Long since = cutSince.get(site);
    return since == null ? Duration.ZERO : Duration.ofNanos(nanoClock.getAsLong() - since);
  }

  /** True while traffic from {@code from} to {@code to} is blackholed (never inside a site). */
  public boolean isCut(String from, String to) {
    return !from.equals(to) && !cutSince.isEmpty() && (cutSince.containsKey(from) || cutSince.containsKey(to));
  }

  /** Tells the emulator that a node of {@code site} listens at {@code address}. */
  public void listening(InetSocketAddress address, String site) {
    listeners.put(key(address), site);
  }

  /** The site listening at {@code address}, if a node registered it. */
  public Optional<String> siteAt(InetSocketAddress address) {
    return address == null ? Optional.empty() : Optional.ofNullable(listeners.get(key(address)));
  }

  /** WAN bytes sent by the site's nodes to other sites. */
  public long wanBytesOut(String site) {
    return counters(site).out.sum();
  }

  /** WAN bytes received by the site's nodes from other sites. */
  public long wanBytesIn(String site) {
    return counters(site).in.sum();
  }

  private static String key(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  private Counters counters(String site) {
    return counters.computeIfAbsent(site, s -> new Counters());
  }

  private Optional<SiteLink> link(String site) {
    return Optional.ofNullable(sites.get(site));
  }

  private Optional<TokenBucket> bucket(long bytesPerSecond) {
    return bytesPerSecond <= 0
        ? Optional.empty()
        : Optional.of(TokenBucket.ofRate(bytesPerSecond, BURST_MILLIS, nanoClock));
  }

  private record SiteLink(Optional<TokenBucket> uplink, Optional<TokenBucket> downlink) {}

  private static final class Counters {
    final LongAdder in = new LongAdder();
    final LongAdder out = new LongAdder();
  }
}
