package io.patchmesh.seed.cluster;

import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import io.patchmesh.runtime.NodeRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /api/v1/cluster} on a seed: the live seeds of its cluster, which
 * one leads, this seed's ZooKeeper session (a seed without {@code
 * --zookeeper} says it steers alone); and the cluster's metrics.
 */
public final class ClusterApi {
  private final NodeRuntime node;
  private final SeedCluster cluster;

  /** @param cluster null for a seed that steers alone */
  public ClusterApi(NodeRuntime node, SeedCluster cluster) {
    this.node = node;
    this.cluster = cluster;
  }

  public void addRoutes(AdminRouter r) {
    r.get("/api/v1/cluster", req -> AdminResponse.json(describe()));
  }

  Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    if (cluster == null) {
      out.put("zookeeper", "");
      out.put("session", "none");
      out.put("seed", node.id().hex());
      out.put("leader", node.id().hex());
      out.put("leads", true);
      out.put("steering", "steers rollouts alone (no --zookeeper)");
      out.put("seeds", List.of(Map.of("id", node.id().hex(), "about", node.site(), "leader", true)));
      return out;
    }
    Optional<String> leader = cluster.leader();
    out.put("zookeeper", cluster.config().connect().text());
    out.put("session", cluster.sessionState());
    out.put("seed", node.id().hex());
    out.put("leader", leader.orElse(""));
    out.put("leads", cluster.leads());
    out.put("steering", cluster.notSteering().orElse("steers rollouts"));
    List<Map<String, Object>> seeds = new ArrayList<>();
    cluster.seeds().forEach((id, about) -> {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("id", id);
      s.put("about", about);
      s.put("leader", leader.map(id::equals).orElse(false));
      seeds.add(s);
    });
    out.put("seeds", seeds);
    out.put("leadershipChanges", cluster.leadershipChanges());
    out.put("sessionLosses", cluster.sessionLosses());
    out.put("suspensions", cluster.suspensions());
    out.put("zookeeperWrites", cluster.writes());
    return out;
  }

  /** Prometheus: leadership changes, session losses and suspensions, writes, and whether this seed leads. */
  public static void registerMetrics(NodeRuntime node, SeedCluster c) {
    node.metrics().gauge("patchmesh_seed_leadership_changes", "times this seed gained or lost the seed cluster's leadership",
        c::leadershipChanges);
    node.metrics().gauge("patchmesh_seed_zookeeper_session_losses", "ZooKeeper sessions this seed lost", c::sessionLosses);
    node.metrics().gauge("patchmesh_seed_zookeeper_suspensions", "ZooKeeper connections suspended", c::suspensions);
    node.metrics().gauge("patchmesh_seed_zookeeper_writes", "writes this seed made to ZooKeeper", c::writes);
    node.metrics().gauge("patchmesh_seed_leader", "1 while this seed leads with a live session", () -> c.leads() ? 1 : 0);
    node.metrics().gauge("patchmesh_seed_zookeeper_connected", "1 while this seed has a ZooKeeper session", () -> c.connected() ? 1 : 0);
  }
}
