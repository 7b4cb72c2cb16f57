package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import java.util.concurrent.atomic.AtomicLong;

/** What {@link ManifestSync} counts for the operator, exported as gauges when made. */
final class ManifestSyncCounters {
  /** Announcements (and have-map hints) not followed because their source is backed off. */
  final AtomicLong backedOffSkips = new AtomicLong();
  /** Downloads sent on to their next source at once after a copy was refused. */
  final AtomicLong retries = new AtomicLong();
  /** Manifests that arrived as a delta and verified. */
  final AtomicLong deltas = new AtomicLong();
  /** Manifest deltas refused (out of bounds, not decoding, or not verifying). */
  final AtomicLong deltasRefused = new AtomicLong();

  ManifestSyncCounters(NodeMetrics metrics) {
    metrics.gauge("patchmesh.manifest.sources.backed.off", "manifest announcements not followed: their source served a copy that failed its checks lately",
        backedOffSkips::get);
    metrics.gauge("patchmesh.manifest.downloads.retried", "manifest downloads sent on to the next source at once after a refused copy",
        retries::get);
    metrics.gauge("patchmesh.manifest.deltas", "manifests that arrived as a delta against an earlier version and verified",
        deltas::get);
    metrics.gauge("patchmesh.manifest.deltas.refused", "manifest deltas refused (out of bounds, not decoding, or not verifying)",
        deltasRefused::get);
  }
}
