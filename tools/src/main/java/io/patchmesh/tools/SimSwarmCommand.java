package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.transfer.sim.SwarmSimConfig;
import io.patchmesh.transfer.sim.SwarmSimResult;
import io.patchmesh.transfer.sim.SwarmSimulation;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code patchmesh sim swarm}: the swarm's real core (fetching and serving) on N simulated nodes. */
@Command(
    name = "swarm",
    description = {
      "Patch distribution to N simulated agents in K sites from one seed, on virtual time.",
      "Every node runs the real swarm core (fetching: picker, site interest, WAN link watch,",
      "bans; serving: upload slots, parking) driven over a simulated network and store.",
      "Network: each site's WAN downlink is one FIFO served at --down, each agent's LAN",
      "uplink at --up, --rtt to the core, bounded send queues (--wan-buffer); --loss delays frames by an RTO,",
      "--cut drops frames without closing (TCP backs off; data unacknowledged for 20 s closes",
      "the link, and agents redial their seed every second or so); deaths reach peers 2 s later (an",
      "oracle, not the membership protocol). Same flags, same figures (except wallSeconds",
      "and peakHeapMB, which measure this machine)."
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

  @Option(names = "--down", split = ",", paramLabel = "[SITE=]RATE",
      description = "WAN downlink: every site's (default: 100mbit), or one site's with s7=20mbit; repeatable")
  List<String> down = new ArrayList<>();

  @Option(names = "--up", split = ",", paramLabel = "[SITE=]RATE",
      description = "each agent's LAN uplink, every site's (default: 1gbit) or one site's; repeatable")
  List<String> up = new ArrayList<>();

  @Option(names = "--rtt", split = ",", paramLabel = "[SITE=]TIME",
      description = "a site's round trip to the core, every site's (default: 40ms) or one site's; repeatable")
  List<String> rtt = new ArrayList<>();

  @Option(names = "--loss", defaultValue = "0", paramLabel = "P",
      description = "share of frames lost once and retransmitted, 0.01 or 1%% (default: 0)")
  String loss;

  @Option(names = "--cut", paramLabel = "SITES@START+DURATION",
      description = "cut sites' WAN (frames dropped, no resets; links close after 20 s unacknowledged): s7@20s+60s, or 50@20s+60s / 10%%@20s+60s "
          + "for that many sites at random; repeatable")
  List<String> cut = new ArrayList<>();

  @Option(names = "--wan-buffer", defaultValue = "200ms", paramLabel = "TIME|off",
      description = "the queue of each site's WAN router, as time at its rate; a WAN connection's send buffer holds "
          + "twice its round trip plus that (at most 4 MiB) and what a cut holds of it arrives after the heal; "
          + "off: 64 KiB send queues only (default: 200ms)")
  String wanBuffer;

  @Option(names = "--wan-yield", defaultValue = "off", paramLabel = "ledbat|off",
      description = "agents pace their WAN requests by the queuing delay they measure, as the nodes' wan-yield: ledbat "
          + "(their default) does; off: as the pipelines allow (default: off, the figures before this flag)")
  String wanYield;

  @Option(names = "--store-delay", defaultValue = "0ms", paramLabel = "TIME",
      description = "how long an agent takes to hash and store each chunk that arrived (a busy machine: tens of ms; default: 0ms)")
  String storeDelay;

  @Option(names = "--kill", paramLabel = "COUNT@TIME", description = "agents that die at a time, e.g. 150@15s or 5%%@15s")
  String kill;

  @Option(names = "--corrupt-peers", defaultValue = "0", paramLabel = "K", description = "agents that serve corrupt chunks, a count or 1%% (default: 0)")
  String corruptPeers;

  @Option(names = "--slow-sites", defaultValue = "0", paramLabel = "K", description = "sites whose WAN downlink is a tenth of --down (default: 0)")
  String slowSites;

  @Option(names = "--full-disks", defaultValue = "0", paramLabel = "K", description = "agents whose store fills at half the patch (default: 0)")
  String fullDisks;

  @Option(names = "--rotten-chunks", defaultValue = "0", paramLabel = "K",
      description = "stored chunks found corrupt when read to serve them (default: 0)")
  int rottenChunks;

  @Option(names = "--limit", defaultValue = "1h", paramLabel = "TIME", description = "virtual time to give up at (default: 1h)")
  String limit;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Option(names = "--cost-runs", defaultValue = "0", paramLabel = "N",
      description = "measure the swarm cores' CPU time and allocations per chunk handled, apart from the simulator's: "
          + "a warm-up, then N rounds of the same scenario in this JVM, one line each (default: 0, off)")
  int costRuns;

  @Override
  public Integer call() {
    if (costRuns > 0) {
      return SimSwarmCost.run(config(), costRuns, spec.commandLine().getOut());
    }
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

  private SwarmSimConfig.SendBuffers sendBuffers() {
    if (wanBuffer.equalsIgnoreCase("off")) {
      return SwarmSimConfig.SendBuffers.NETTY_ONLY;
    }
    return new SwarmSimConfig.SendBuffers(
        SwarmSimConfig.SendBuffers.defaults().socketMaxBytes(), Units.parseDuration("--wan-buffer", wanBuffer).toMillis());
  }

  private boolean wanYield() {
    return switch (wanYield.toLowerCase(java.util.Locale.ROOT)) {
      case "ledbat" -> true;
      case "off" -> false;
      default -> throw new UserInputException("--wan-yield: '" + wanYield + "' is not ledbat or off");
    };
  }

  SwarmSimConfig config() {
    long sizeBytes = Units.parseBytes("--size", size);
    long chunkBytes = Units.parseBytes("--chunk", chunk);
    long limitMillis = Units.parseDuration("--limit", limit).toMillis();
    int k = sites != null ? sites : Math.max(1, nodes / 20);
    if (nodes < 1 || k < 1) {
      throw new UserInputException("sim swarm: --nodes and --sites must be positive");
    }
    Map<Integer, Double> siteDown = new TreeMap<>();
    Map<Integer, Double> siteUp = new TreeMap<>();
    Map<Integer, Long> siteRtt = new TreeMap<>();
    double downMbit = perSite("--down", down, "100mbit", k, siteDown, v -> Units.parseRate("--down", v) * 8 / 1e6);
    double upMbit = perSite("--up", up, "1gbit", k, siteUp, v -> Units.parseRate("--up", v) * 8 / 1e6);
    long rttMillis = perSite("--rtt", rtt, "40ms", k, siteRtt, v -> Units.parseDuration("--rtt", v).toMillis());
    List<SwarmSimConfig.Cut> cuts = new ArrayList<>();
    Random pickSites = new Random(seed ^ 0x637574L);
    for (String c : cut) {
      cuts.addAll(cuts(c, k, pickSites));
    }
    int killCount = 0;
    long killAt = 0;
    if (kill != null) {
      int at = kill.indexOf('@');
      if (at <= 0) {
        throw new UserInputException("--kill: '" + kill + "' is not COUNT@TIME like 150@15s");
      }
      killCount = count("--kill", kill.substring(0, at), nodes);
      killAt = Units.parseDuration("--kill", kill.substring(at + 1)).toMillis();
    }
    try {
      return SwarmSimConfig.builder(nodes, k, sizeBytes)
          .chunkBytes((int) Math.min(Integer.MAX_VALUE, chunkBytes))
          .seed(seed)
          .down(downMbit, siteDown)
          .up(upMbit, siteUp)
          .rtt(rttMillis, siteRtt)
          .loss(SimCommand.parseLoss(loss))
          .cuts(cuts)
          .kill(killCount, killAt)
          .corruptPeers(count("--corrupt-peers", corruptPeers, nodes))
          .slowSites(count("--slow-sites", slowSites, k))
          .fullDisks(count("--full-disks", fullDisks, nodes))
          .rottenChunks(rottenChunks)
          .limitMillis(limitMillis)
          .sendBuffers(sendBuffers())
          .wanYield(wanYield())
          .storeDelayMillis(Units.parseDuration("--store-delay", storeDelay).toMillis())
          .build();
    } catch (IllegalArgumentException e) {
      throw new UserInputException("sim swarm: " + e.getMessage());
    }
  }

  /**
   * "RATE" sets every site's value, "s7=RATE" one site's: fills {@code overrides} and returns the
   * default for all.
   */
  private static <T> T perSite(String flag, List<String> specs, String fallback, int sites, Map<Integer, T> overrides,
      Function<String, T> parse) {
    T all = parse.apply(fallback);
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      if (eq < 0) {
        all = parse.apply(spec);
      } else {
        overrides.put(site(flag, spec.substring(0, eq).trim(), sites), parse.apply(spec.substring(eq + 1)));
      }
    }
    return all;
  }

  /** "s7" to 7; anything else, or a site past the last, is a usage error naming {@code flag}. */
  static int site(String flag, String name, int sites) {
    if (name.matches("s[0-9]{1,9}")) {
      int s = Integer.parseInt(name.substring(1));
      if (s < sites) {
        return s;
      }
    }
    throw new UserInputException(flag + ": unknown site '" + name + "' (sites are s0..s" + (sites - 1) + ")");
  }

  /** "150" or "5%" of {@code of}; negative or unreadable is a usage error naming {@code flag}. */
  static int count(String flag, String text, int of) {
    String t = text.trim();
    try {
      if (t.endsWith("%")) {
        double p = Double.parseDouble(t.substring(0, t.length() - 1));
        if (p >= 0 && p <= 100) {
          return (int) Math.round(of * p / 100);
        }
      } else {
        int n = Integer.parseInt(t);
        if (n >= 0) {
          return n;
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UserInputException(flag + ": '" + text + "' is not a count like 50 or a share like 1%");
  }

  /** "s7@20s+60s", "50@20s+60s" or "10%@20s+60s". */
  private static List<SwarmSimConfig.Cut> cuts(String spec, int sites, Random random) {
    int at = spec.indexOf('@');
    int plus = spec.indexOf('+', at + 1);
    if (at <= 0 || plus < 0) {
      throw new UserInputException("--cut: '" + spec + "' is not SITES@START+DURATION like s7@20s+60s or 10%@20s+60s");
    }
    String who = spec.substring(0, at).trim();
    long start = Units.parseDuration("--cut", spec.substring(at + 1, plus)).toMillis();
    long duration = Units.parseDuration("--cut", spec.substring(plus + 1)).toMillis();
    List<Integer> chosen = new ArrayList<>();
    if (who.startsWith("s")) {
      chosen.add(site("--cut", who, sites));
    } else {
      int n = count("--cut", who, sites);
      if (n > sites) {
        throw new UserInputException("--cut: " + n + " sites to cut, there are " + sites);
      }
      List<Integer> all = new ArrayList<>();
      for (int s = 0; s < sites; s++) {
        all.add(s);
      }
      Collections.shuffle(all, random);
      chosen.addAll(all.subList(0, n));
      Collections.sort(chosen);
    }
    List<SwarmSimConfig.Cut> out = new ArrayList<>();
    for (int s : chosen) {
      out.add(new SwarmSimConfig.Cut(s, start, duration));
    }
    return out;
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
    n.put("healTailMax", r.healTailMax());
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
    if (r.healTailMax() >= 0) {
      b.append(String.format(Locale.ROOT, "  cut site after the heal  %.3f x its remaining bytes' time at most%n", r.healTailMax()));
    }
    b.append(String.format(Locale.ROOT, "  simulated %.1f s, %,d events, %.1f s wall, peak heap %,d MB%n",
        r.simulatedMillis() / 1000.0, r.events(), r.wallSeconds(), r.peakHeapMB()));
    return b.toString();
  }

  private static String ratio(double v) {
    return v < 0 ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }
}
