package io.patchmesh.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The counters an operator wants to see, exposed at /metrics in the Prometheus
 * text format. One instance per node (no static registry), so many nodes in
 * one JVM keep separate figures.
 */
public final class NodeMetrics {
  /** Where a received chunk came from. */
  public enum Source {
    LAN, // a peer in this node's site
    WAN, // an agent in another site
    SEED // a seed (origin), across the WAN
  }

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<Source, Counter> chunksIn = new EnumMap<>(Source.class);
  private final Map<Source, Counter> bytesIn = new EnumMap<>(Source.class);
  private final Counter chunksServedLan;
  private final Counter chunksServedWan;
  private final Counter bytesServedLan;
  private final Counter bytesServedWan;
  private final Counter chunkVerifyFailures;
  private final Counter manifestVerifyFailures;
  private final Counter duplicateChunks;
  private final Counter bans;
  private final Counter gossipBytesIn;
  private final Counter gossipBytesOut;
  private final Counter gcChunks;
  private final Counter gcBytes;
  private final Counter applied;
  private final Counter applyFailures;

  public NodeMetrics() {
    for (Source s : Source.values()) {
      String tag = s.name().toLowerCase(java.util.Locale.ROOT);
      chunksIn.put(s, Counter.builder("patchmesh.chunks.received").description("verified chunks stored, by source class").tag("source", tag).register(registry));
      bytesIn.put(s, Counter.builder("patchmesh.chunk.bytes.received").description("verified chunk bytes stored, by source class").tag("source", tag).register(registry));
    }
    chunksServedLan = Counter.builder("patchmesh.chunks.served").tag("dest", "lan").register(registry);
    chunksServedWan = Counter.builder("patchmesh.chunks.served").tag("dest", "wan").register(registry);
    bytesServedLan = Counter.builder("patchmesh.chunk.bytes.served").tag("dest", "lan").register(registry);
    bytesServedWan = Counter.builder("patchmesh.chunk.bytes.served").tag("dest", "wan").register(registry);
    chunkVerifyFailures = Counter.builder("patchmesh.verification.failures").description("inputs rejected by verification").tag("kind", "chunk").register(registry);
    manifestVerifyFailures = Counter.builder("patchmesh.verification.failures").tag("kind", "manifest").register(registry);
    duplicateChunks = Counter.builder("patchmesh.chunks.duplicate").description("chunks received that were already stored (should stay ~0 outside endgame)").register(registry);
    bans = Counter.builder("patchmesh.peers.banned").description("peers banned for misbehaviour").register(registry);
    gossipBytesIn = Counter.builder("patchmesh.gossip.bytes").tag("direction", "in").register(registry);
    gossipBytesOut = Counter.builder("patchmesh.gossip.bytes").tag("direction", "out").register(registry);
    gcChunks = Counter.builder("patchmesh.gc.chunks.removed").register(registry);
    gcBytes = Counter.builder("patchmesh.gc.bytes.removed").register(registry);
    applied = Counter.builder("patchmesh.apply").tag("result", "ok").register(registry);
    applyFailures = Counter.builder("patchmesh.apply").tag("result", "failed").register(registry);
  }

  public void chunkReceived(Source source, int bytes) {
    chunksIn.get(source).increment();
    bytesIn.get(source).increment(bytes);
  }

  public double chunksReceived(Source source) {
    return chunksIn.get(source).count();
  }

  public double bytesReceived(Source source) {
    return bytesIn.get(source).count();
  }

  public void chunkServed(boolean lan, int bytes) {
    (lan ? chunksServedLan : chunksServedWan).increment();
    (lan ? bytesServedLan : bytesServedWan).increment(bytes);
  }

  public void chunkVerifyFailed() {
    chunkVerifyFailures.increment();
  }

  public double chunkVerifyFailures() {
    return chunkVerifyFailures.count();
  }

  public void manifestVerifyFailed() {
    manifestVerifyFailures.increment();
  }

  /** Manifest downloads refused after they arrived (not a signed manifest, wrong id, signatures, content). */
  public double manifestVerifyFailures() {
    return manifestVerifyFailures.count();
  }

  public void duplicateChunk() {
    duplicateChunks.increment();
  }

  public double duplicateChunks() {
    return duplicateChunks.count();
  }

  public void peerBanned() {
    bans.increment();
  }

  public double bans() {
    return bans.count();
  }

  public void gossip(boolean in, int bytes) {
    (in ? gossipBytesIn : gossipBytesOut).increment(bytes);
  }

  public void gc(long chunks, long bytes) {
    gcChunks.increment(chunks);
    gcBytes.increment(bytes);
  }

  public void applyResult(boolean ok) {
    (ok ? applied : applyFailures).increment();
  }

  /** Registers a gauge read on scrape (members by state, store bytes, ...). */
  public <T> void gauge(String name, String description, T obj, ToDoubleFunction<T> f, String... tags) {
    Gauge.builder(name, obj, f).description(description).tags(tags).register(registry);
  }

  public void gauge(String name, String description, Supplier<Number> f, String... tags) {
    Gauge.builder(name, f).description(description).tags(tags).register(registry);
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }
}
