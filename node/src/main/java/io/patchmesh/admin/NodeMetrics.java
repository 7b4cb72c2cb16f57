package io.patchmesh.admin;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The counters an operator wants to see, exposed at /metrics in the Prometheus
 * text format. One instance per node (no static registry), so many nodes in
 * one JVM keep separate figures.
 *
 * <p>Counting is plain {@link DoubleAdder}s; Micrometer and its Prometheus registry (~185 classes,
 * ~1 MB of class metadata in every agent) are loaded only when /metrics is first scraped
 * ({@link MetricsExposition}), which most agents never are (docs/BENCHMARKS.md section 12.7).
 */
public final class NodeMetrics {
  /** Where a received chunk came from. */
  public enum Source {
    LAN, // a peer in this node's site
    WAN, // an agent in another site
    SEED // a seed (origin), across the WAN
  }

  /** A counter as /metrics will show it: Micrometer name, description (or null), tags. */
  record CounterDef(String name, String description, String[] tags, DoubleAdder value) {}

  /** A gauge read on scrape. */
  record GaugeDef<T>(String name, String description, T obj, ToDoubleFunction<T> f, String[] tags) {}

  private final List<CounterDef> counters = new ArrayList<>();
  private final List<GaugeDef<?>> gauges = new ArrayList<>(); // guarded by this
  private final Map<Source, DoubleAdder> chunksIn = new EnumMap<>(Source.class);
  private final Map<Source, DoubleAdder> bytesIn = new EnumMap<>(Source.class);
  private final DoubleAdder chunksServedLan;
  private final DoubleAdder chunksServedWan;
  private final DoubleAdder bytesServedLan;
  private final DoubleAdder bytesServedWan;
  private final DoubleAdder chunkVerifyFailures;
  private final DoubleAdder manifestVerifyFailures;
  private final DoubleAdder duplicateChunks;
  private final DoubleAdder bans;
  private final DoubleAdder gossipBytesIn;
  private final DoubleAdder gossipBytesOut;
  private final DoubleAdder gcChunks;
  private final DoubleAdder gcBytes;
  private final DoubleAdder applied;
  private final DoubleAdder applyFailures;
  private MetricsExposition exposition; // guarded by this; built at the first scrape

  public NodeMetrics() {
    for (Source s : Source.values()) {
      String tag = s.name().toLowerCase(java.util.Locale.ROOT);
      chunksIn.put(s, counter("patchmesh.chunks.received", "verified chunks stored, by source class", "source", tag));
      bytesIn.put(s, counter("patchmesh.chunk.bytes.received", "verified chunk bytes stored, by source class", "source", tag));
    }
    chunksServedLan = counter("patchmesh.chunks.served", null, "dest", "lan");
    chunksServedWan = counter("patchmesh.chunks.served", null, "dest", "wan");
    bytesServedLan = counter("patchmesh.chunk.bytes.served", null, "dest", "lan");
    bytesServedWan = counter("patchmesh.chunk.bytes.served", null, "dest", "wan");
    chunkVerifyFailures = counter("patchmesh.verification.failures", "inputs rejected by verification", "kind", "chunk");
    manifestVerifyFailures = counter("patchmesh.verification.failures", null, "kind", "manifest");
    duplicateChunks = counter("patchmesh.chunks.duplicate", "chunks received that were already stored (should stay ~0 outside endgame)");
    bans = counter("patchmesh.peers.banned", "peers banned for misbehaviour");
    gossipBytesIn = counter("patchmesh.gossip.bytes", null, "direction", "in");
    gossipBytesOut = counter("patchmesh.gossip.bytes", null, "direction", "out");
    gcChunks = counter("patchmesh.gc.chunks.removed", null);
    gcBytes = counter("patchmesh.gc.bytes.removed", null);
    applied = counter("patchmesh.apply", null, "result", "ok");
    applyFailures = counter("patchmesh.apply", null, "result", "failed");
  }

  private DoubleAdder counter(String name, String description, String... tags) {
    DoubleAdder a = new DoubleAdder();
    counters.add(new CounterDef(name, description, tags, a));
    return a;
  }

  public void chunkReceived(Source source, int bytes) {
    chunksIn.get(source).add(1);
    bytesIn.get(source).add(bytes);
  }

  public double chunksReceived(Source source) {
    return chunksIn.get(source).sum();
  }

  public double bytesReceived(Source source) {
    return bytesIn.get(source).sum();
  }

  public void chunkServed(boolean lan, int bytes) {
    (lan ? chunksServedLan : chunksServedWan).add(1);
    (lan ? bytesServedLan : bytesServedWan).add(bytes);
  }

  public void chunkVerifyFailed() {
    chunkVerifyFailures.add(1);
  }

  public double chunkVerifyFailures() {
    return chunkVerifyFailures.sum();
  }

  public void manifestVerifyFailed() {
    manifestVerifyFailures.add(1);
  }

  /** Manifest downloads refused after they arrived (not a signed manifest, wrong id, signatures, content). */
  public double manifestVerifyFailures() {
    return manifestVerifyFailures.sum();
  }

  public void duplicateChunk() {
    duplicateChunks.add(1);
  }

  public double duplicateChunks() {
    return duplicateChunks.sum();
  }

  public void peerBanned() {
    bans.add(1);
  }

  public double bans() {
    return bans.sum();
  }

  public void gossip(boolean in, int bytes) {
    (in ? gossipBytesIn : gossipBytesOut).add(bytes);
  }

  public void gc(long chunks, long bytes) {
    gcChunks.add(chunks);
    gcBytes.add(bytes);
  }

  public void applyResult(boolean ok) {
    (ok ? applied : applyFailures).add(1);
  }

  /** Registers a gauge read on scrape (members by state, store bytes, ...). */
  public synchronized <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> f, String... tags) {
    GaugeDef<T> g = new GaugeDef<>(name, description, obj, f, tags);
    gauges.add(g);
    if (exposition != null) {
      exposition.register(g);
    }
  }

  public void gauge(String name, String description, Supplier<Number> f, String... tags) {
    gauge(name, description, f, s -> {
      Number n = s.get();
      return n == null ? Double.NaN : n.doubleValue();
    }, tags);
  }

  /** The Prometheus text exposition (the first call loads Micrometer). */
  public String scrape() {
    MetricsExposition e;
    synchronized (this) {
      if (exposition == null) {
        exposition = MetricsExposition.of(counters, gauges);
      }
      e = exposition;
    }
    return e.scrape();
  }
}
