package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.config.Units;
import io.patchmesh.store.GcStats;
import io.patchmesh.store.NodeStore;
import io.patchmesh.trust.ManifestId;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection of the cache: manifests beyond the store's retention (newest N per channel)
 * go, then chunks no remaining manifest references. Manifests still being fetched are pinned.
 * Chunks leased by an upload in progress ({@link io.patchmesh.store.ChunkLeases}) are kept; leases
 * past their end are dropped first, so an abandoned upload's chunks go.
 * Sessions of removed manifests stop. The collection runs on a worker; its effects on the loop.
 */
final class CacheCollector {
  private static final Logger log = LoggerFactory.getLogger(CacheCollector.class);
  /** How often the chunk cache drops manifests beyond retention and unreferenced chunks. */
  static final long INTERVAL_MILLIS = 10 * 60_000;

  private final NodeLoop loop;
  private final NodeStore store;
  private final NodeMetrics metrics;
  private final Swarm swarm;
  private final ApplyPipeline apply;
  /** The clock upload sessions' leases are granted by (the runtime options' clock). */
  private final Clock clock;

  CacheCollector(NodeLoop loop, NodeStore store, NodeMetrics metrics, Swarm swarm, ApplyPipeline apply, Clock clock) {
    this.loop = loop;
    this.clock = clock;
    this.store = store;
    this.metrics = metrics;
    this.swarm = swarm;
    this.apply = apply;
  }

  /** One collection (loop thread); the future completes with its figures once the store's part is done. */
  CompletableFuture<GcStats> collect() {
    CompletableFuture<GcStats> done = new CompletableFuture<>();
    Set<ManifestId> pinned = new HashSet<>();
    for (TransferSession s : swarm.sessions()) {
      if (!s.complete() && s.wanted) {
        pinned.add(s.id);
      }
    }
    loop.work(() -> {
      int expired = store.leases().expire(clock.instant());
      if (expired > 0) {
        log.info("gc: {} upload leases expired; their chunks may go", expired);
      }
      GcStats st;
      try {
        st = store.gc(pinned);
      } catch (RuntimeException e) {
        done.completeExceptionally(e);
        throw e;
      }
      metrics.gc(st.chunksRemoved(), st.bytesRemoved());
      if (st.manifestsRemoved() > 0 || st.chunksRemoved() > 0) {
        log.info("gc: {} manifests and {} chunks ({}) removed, {} chunks kept",
            st.manifestsRemoved(), st.chunksRemoved(), Units.formatBytes(st.bytesRemoved()), st.chunksKept());
      }
      loop.execute(() -> {
        for (TransferSession s : new ArrayList<>(swarm.sessions())) {
          if (!store.manifests().contains(s.id)) {
            swarm.stop(s.id);
            apply.forget(s.id);
          }
        }
      });
      done.complete(st);
    });
    return done;
  }
}
