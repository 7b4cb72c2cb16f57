package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Who hears of a manifest THIS node verified directly, besides gossip: every linked member that peers
 * with seeds alone ({@link SeedsOnlyMembers}), then every other member we hold a link to now, at
 * most {@link #MAX} in all — one small frame each, once per verified manifest, so no peer can cause
 * more. A seed's links are its agents, an agent's its site-mates, seeds and a few other sites'
 * agents. By gossip alone a manifest reached a site only after a hop through a member that had
 * fetched, checked and stored it first (BENCHMARKS 13p: 2-8 s from the publish to a site's first WAN
 * byte, one site in three hearing of it from its own first fetcher); with a link each hears of it at
 * once, and {@code ManifestSiteSources} still has one member per site fetch it across the WAN.
 */
final class DirectAnnounces {
  /** Members an announcement of ours is sent to directly, at most. */
  static final int MAX = 1_024;

  private DirectAnnounces() {}

  static List<NodeId> targets(List<NodeId> seedsOnlyLinked, MemberTable table, Predicate<NodeId> linked) {
    Set<NodeId> out = new LinkedHashSet<>(seedsOnlyLinked);
    table.forEach(r -> {
      NodeId id = r.info.id();
      if (out.size() < MAX && linked.test(id)) {
        out.add(id);
      }
    });
    return new ArrayList<>(out);
  }
}
