package io.patchmesh.runtime;

import io.patchmesh.apply.Freshness;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.proto.Manifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.TrustedRoot;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node is stale (see {@link Freshness}): the newest stored manifest of a channel
 * expired, or the trust root expires soon. Rechecked on the loop at most every 10 s; the answer
 * is readable from any thread.
 */
final class FreshnessWatch {
  private static final Logger log = LoggerFactory.getLogger(FreshnessWatch.class);
  static final long RECHECK_MILLIS = 10_000;

  private final ManifestStore manifests;
  private final TrustedRoot root;
  private final NodeConfig config;
  private final Clock clock;
  /** Why this node is stale; empty = fresh. Any thread. */
  private volatile List<String> stale = List.of();
  /** Expiry (epoch s) of stored manifests, by id: each is parsed once. Loop only. */
  private final Map<ManifestId, Long> expiryOf = new HashMap<>();
  private long nextCheckMillis;

  FreshnessWatch(ManifestStore manifests, TrustedRoot root, NodeConfig config, Clock clock) {
    this.manifests = manifests;
    this.root = root;
    this.config = config;
    this.clock = clock;
  }

  List<String> reasons() {
    return stale;
  }

  /**
   * Rechecks if 10 s have passed since the last check ({@code now}: the loop's monotonic time).
   * True if the reasons changed (the status should go out).
   */
  boolean recheck(long now) {
    if (now < nextCheckMillis) {
      return false;
    }
    nextCheckMillis = now + RECHECK_MILLIS;
    Map<String, StoredManifest> newest = new HashMap<>();
    for (StoredManifest sm : manifests.list()) {
      newest.merge(sm.channel(), sm, (a, b) -> a.version() >= b.version() ? a : b);
    }
    Map<String, Freshness.Newest> held = new HashMap<>();
    for (StoredManifest sm : newest.values()) {
      Long exp = expiryOf.computeIfAbsent(sm.id(), id -> manifests.get(id).map(sig -> {
        try {
          return Manifest.parseFrom(sig.getManifest()).getExpiresUnix();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }).orElse(null));
      if (exp != null) {
        held.put(sm.channel(), new Freshness.Newest(sm.version(), Instant.ofEpochSecond(exp)));
      }
    }
    if (expiryOf.size() > 4 * newest.size() + 64) {
      expiryOf.keySet().removeIf(id -> newest.values().stream().noneMatch(sm -> sm.id().equals(id)));
    }
    List<String> reasons = Freshness.reasons(clock.instant(), root.expires(), config.rootExpiryWarning(), held);
    if (reasons.equals(stale)) {
      return false;
    }
    if (!reasons.isEmpty()) {
      log.warn("stale: {}", reasons);
    }
    stale = List.copyOf(reasons);
    return true;
  }
}
