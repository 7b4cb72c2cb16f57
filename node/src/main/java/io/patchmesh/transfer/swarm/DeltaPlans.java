package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.transfer.delta.DeltaBases;
import io.patchmesh.trust.VerifiedManifest;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Which chunks of a new version may come as deltas, and against what. Part of {@link Fetching}. */
final class DeltaPlans {
  private DeltaPlans() {}

  /**
   * Delta bases for {@code vm}: against the newest older version of the same channel among {@code
   * sessions}, naming only chunks that session advertises (stored verified, not lost).
   */
  static Map<Integer, List<ChunkId>> plan(Collection<ManifestSession> sessions, VerifiedManifest vm, Outbox out) {
    ManifestSession prev = null;
    for (ManifestSession o : sessions) {
      if (o.vm.channel().equals(vm.channel())
          && o.vm.version() < vm.version()
          && (prev == null || o.vm.version() > prev.vm.version())) {
        prev = o;
      }
    }
    if (prev == null) {
      return Map.of();
    }
    Set<ChunkId> held = new HashSet<>();
    for (int i = 0; i < prev.table.count(); i++) {
      if (prev.mine.has(i) && !prev.lost.contains(i)) {
        held.add(prev.table.id(i));
      }
    }
    Map<Integer, List<ChunkId>> plan = DeltaBases.plan(prev.vm.manifest(), vm.manifest(), held::contains);
    out.note(vm + ": " + plan.size() + " chunks may come as deltas against " + prev.vm);
    return plan;
  }
}
