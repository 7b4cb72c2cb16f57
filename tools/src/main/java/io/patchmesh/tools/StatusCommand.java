package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", description = "Show a node: its members by site and state, and its manifests.")
final class StatusCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode st = admin.client().get("/api/v1/status");
    PrintWriter out = spec.commandLine().getOut();
    if (admin.json) {
      out.println(AdminClient.pretty(st));
      return Main.OK;
    }
    JsonNode node = st.path("node");
    out.printf("node %s  site %s  roles %s%n", node.path("id").asText(), node.path("site").asText(), node.path("roles"));
    node.path("stale").forEach(r -> out.println("STALE: " + InspectCommand.printable(r.asText())));
    Map<String, int[]> bySite = new TreeMap<>();
    for (JsonNode m : st.path("members")) {
      int[] c = bySite.computeIfAbsent(m.path("site").asText(), s -> new int[4]);
      switch (m.path("state").asText()) {
        case "alive" -> c[0]++;
        case "suspect" -> c[1]++;
        case "dead" -> c[2]++;
        default -> c[3]++;
      }
    }
    if (node.path("roles").toString().contains("seed")) {
      printCluster(out, admin.client().get("/api/v1/cluster"));
    }
    out.println("members:");
    bySite.forEach((site, c) -> out.printf("  %-20s %3d alive  %3d suspect  %3d dead  %3d left%n", site, c[0], c[1], c[2], c[3]));
    out.println("manifests:");
    if (st.path("manifests").isEmpty()) {
      out.println("  (none)");
    }
    for (JsonNode m : st.path("manifests")) {
      out.printf(
          "  %s  %s v%s  %s  %s/%s chunks%n",
          m.path("id").asText().substring(0, 12),
          m.path("channel").asText(),
          m.path("version").asText(),
          m.path("phase").asText(),
          m.path("chunksHave").asText(),
          m.path("chunks").asText());
    }
    return Main.OK;
  }

  /** The seed cluster: ZooKeeper session, the leader, every live seed. */
  static void printCluster(PrintWriter out, JsonNode c) {
    if (c.path("zookeeper").asText().isEmpty()) {
      out.println("seed cluster: none (this seed steers rollouts alone)");
      return;
    }
    String self = c.path("seed").asText();
    String leader = c.path("leader").asText();
    out.printf("seed cluster: ZooKeeper %s, session %s, leader %s%s%n", c.path("zookeeper").asText(),
        c.path("session").asText(), leader.isEmpty() ? "(none)" : leader.substring(0, Math.min(12, leader.length())),
        leader.equals(self) ? " (this seed)" : "");
    out.printf("  this seed: %s%n", c.path("steering").asText());
    for (JsonNode s : c.path("seeds")) {
      String id = s.path("id").asText();
      out.printf("  %s %s%s%n", id.substring(0, Math.min(12, id.length())), s.path("about").asText(),
          s.path("leader").asBoolean() ? "  [leader]" : "");
    }
    out.printf("  leadership changes %d, session losses %d, ZooKeeper writes %d%n", c.path("leadershipChanges").asLong(),
        c.path("sessionLosses").asLong(), c.path("zookeeperWrites").asLong());
  }
}
