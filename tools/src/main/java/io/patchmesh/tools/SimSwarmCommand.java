package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.transfer.sim.SwarmSimConfig;
import io.patchmesh.transfer.sim.SwarmSimResult;
import io.patchmesh.transfer.sim.SwarmSimulation;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code patchmesh sim swarm}: the swarm's serving core and chunk picker on N simulated nodes. */
@Command(
    name = "swarm",
    description = {
      "Patch distribution to N simulated agents in K sites from one seed, on virtual time.",
      "Every node runs the real serving core (upload slots, parking, peer discipline) and every",
      "agent the real chunk picker; the fetching glue between them is the simulation's own.",
      "Network: each site's WAN downlink is one FIFO serialised at --down, each agent's LAN",
      "uplink at --up, --rtt between sites, bounded send queues. Same flags, same figures",
      "(except wallSeconds and peakHeapMB, which measure this machine)."
    })
final class SimSwarmCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--nodes", required = true, paramLabel = "N", description = "simulated agents (>= 2)")
  int nodes;

  @Option(names = "--sites", paramLabel = "K", description = "sites s0..s(K-1); agent i in site i mod K (default: N/20, at least 1)")
  Integer sites;

  @Option(names = "--size", defaultValue = "256MiB", paramLabel = "BYTES", description = "patch size (default: 256MiB)")
  String size;

  @Option(names = "--chunk", defaultValue = "1MiB", paramLabel = "BYTES", description = "chunk size (default: 1MiB)")
  String chunk;

  @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "random seed (default: 1)")
  long seed;

  @Option(names = "--down", defaultValue = "100mbit", paramLabel = "RATE", description = "every site's WAN downlink (default: 100mbit)")
  String down;

  @Option(names = "--up", defaultValue = "1gbit", paramLabel = "RATE", description = "every agent's LAN uplink (default: 1gbit)")
  String up;

  @Option(names = "--rtt", defaultValue = "40ms", paramLabel = "TIME", description = "round trip between sites (default: 40ms)")
  String rtt;

  @Option(names = "--kill", paramLabel = "COUNT@TIME", description = "agents that die at a time, e.g. 150@15s")
  String kill;

  @Option(names = "--corrupt-peers", defaultValue = "0", paramLabel = "K", description = "agents that serve corrupt chunks (default: 0)")
  int corruptPeers;

  @Option(names = "--limit", defaultValue = "1h", paramLabel = "TIME", description = "virtual time to give up at (default: 1h)")
  String limit;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Override
  public Integer call() {
    SwarmSimResult r = SwarmSimulation.run(config());
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      JsonOut.print(o, toJson(r));
    } else {
      o.print(render(r));
      o.flush();
    }
    return Main.OK;
  }

  SwarmSimConfig config() {
    long sizeBytes = Units.parseBytes("--size", size);
    long chunkBytes = Units.parseBytes("--chunk", chunk);
    double downMbit = Units.parseRate("--down", down) * 8 / 1e6;
    double upMbit = Units.parseRate("--up", up) * 8 / 1e6;
    long rttMillis = Units.parseDuration("--rtt", rtt).toMillis();
    long limitMillis = Units.parseDuration("--limit", limit).toMillis();
    int killCount = 0;
    long killAt = 0;
    if (kill != null) {
      int at = kill.indexOf('@');
      if (at <= 0) {
        throw new UserInputException("--kill: '" + kill + "' is not COUNT@TIME like 150@15s");
      }
      try {
        killCount = Integer.parseInt(kill.substring(0, at).trim());
      } catch (NumberFormatException e) {
        throw new UserInputException("--kill: '" + kill + "' is not COUNT@TIME like 150@15s");
      }
      killAt = Units.parseDuration("--kill", kill.substring(at + 1)).toMillis();
    }
    int k = sites != null ? sites : Math.max(1, nodes / 20);
    try {
      return new SwarmSimConfig(nodes, k, sizeBytes, (int) Math.min(Integer.MAX_VALUE, chunkBytes), seed, downMbit,
          upMbit, rttMillis, killCount, killAt, corruptPeers, limitMillis);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("sim swarm: " + e.getMessage());
    }
  }

  static ObjectNode toJson(SwarmSimResult r) {
    ObjectNode n = JsonOut.object();
    n.put("nodes", r.nodes());
    n.put("sites", r.sites());
    n.put("seed", r.seed());
    n.put("honest", r.honest());
    n.put("completed", r.completed());
    n.put("honestBans", r.honestBans());
    n.put("corruptBanned", r.corruptBanned());
    n.put("wanPerSiteMax", r.wanPerSiteMax());
    n.put("completionP50", r.completionP50());
    n.put("completionP99", r.completionP99());
    n.put("completionMax", r.completionMax());
    n.put("seedEgress", r.seedEgress());
    n.put("simulatedMillis", r.simulatedMillis());
    n.put("events", r.events());
    n.put("wallSeconds", r.wallSeconds());
    n.put("peakHeapMB", r.peakHeapMB());
    return n;
  }

  static String render(SwarmSimResult r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "swarm: %,d agents in %,d sites, seed %d%n", r.nodes(), r.sites(), r.seed()));
    b.append(String.format(Locale.ROOT, "  completed                %,d of %,d honest agents%n", r.completed(), r.honest()));
    b.append(String.format(Locale.ROOT, "  bans of honest agents    %d (corrupt agents banned: %d)%n", r.honestBans(), r.corruptBanned()));
    b.append(String.format(Locale.ROOT, "  WAN bytes into a site    %.3f x size at most%n", r.wanPerSiteMax()));
    b.append(String.format(Locale.ROOT, "  completion / WAN bound   p50 %s, p99 %s, max %s%n",
        ratio(r.completionP50()), ratio(r.completionP99()), ratio(r.completionMax())));
    b.append(String.format(Locale.ROOT, "  seed egress              %.3f x sites x size%n", r.seedEgress()));
    b.append(String.format(Locale.ROOT, "  simulated %.1f s, %,d events, %.1f s wall, peak heap %,d MB%n",
        r.simulatedMillis() / 1000.0, r.events(), r.wallSeconds(), r.peakHeapMB()));
    return b.toString();
  }

  private static String ratio(double v) {
    return v < 0 ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }
}
