package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.store.NodeStore;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import java.time.Clock;

/** The node's gauges on /metrics: store, signature checks, freshness, trust root expiry, members. */
final class NodeGauges {
  private NodeGauges() {}

  static void register(NodeMetrics metrics, NodeStore store, ManifestVerifier verifier, TrustedRoot root, Clock clock,
      FreshnessWatch freshness, StatusReporter status) {
    metrics.gauge("patchmesh.store.bytes", "chunk bytes stored", () -> store.chunks().storedBytes());
    metrics.gauge("patchmesh.signature.checks", "Ed25519 checks run on manifests (at most one per distinct known key each)",
        verifier::signatureChecks);
    metrics.gauge("patchmesh.stale", "1 if the newest manifest of a channel held has expired or the trust root expires soon",
        () -> freshness.reasons().isEmpty() ? 0 : 1);
    metrics.gauge("patchmesh.trust.root.expires.seconds", "seconds until the trust root expires",
        () -> root.expires().getEpochSecond() - clock.instant().getEpochSecond());
    metrics.gauge("patchmesh.store.chunks", "chunks stored", () -> store.chunks().count());
    metrics.gauge("patchmesh.store.puts", "chunk puts since this process opened the store", () -> store.chunks().newPuts(), "result", "new");
    metrics.gauge("patchmesh.store.puts", "chunk puts since this process opened the store", () -> store.chunks().duplicatePuts(), "result", "duplicate");
    metrics.gauge("patchmesh.store.duplicate.puts.lifetime", "puts of an already stored chunk over every life of the store (durable)",
        () -> store.chunks().lifetimeDuplicatePuts());
    for (MemberStatus st : MemberStatus.values()) {
      metrics.gauge("patchmesh.members", "members by state",
          () -> status.snapshot().members().stream().filter(m -> m.status() == st).count(), "state", st.label());
    }
  }
}
