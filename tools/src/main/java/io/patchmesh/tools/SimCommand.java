package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.mesh.sim.GossipSimulation;
import io.patchmesh.mesh.sim.SimConfig;
import io.patchmesh.mesh.sim.SimResult;
import io.patchmesh.mesh.sim.SimRun;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code patchmesh sim ...}: deterministic simulations of the mesh. */
@Command(
    name = "sim",
    description = {
      "Simulate the mesh on this machine (no network).",
      "Deterministic: the same flags print the same figures."
    },
    subcommands = {SimCommand.Gossip.class, SimSwarmCommand.class})
final class SimCommand implements Runnable {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing simulation (gossip or swarm)");
  }

  @Command(
      name = "gossip",
      description = {
        "Gossip dissemination and failure detection on N simulated nodes.",
        "Runs the real membership code (SWIM + Lifeguard + gossip) over a simulated network.",
        "At t0 node 0 announces a manifest, one node dies and another stalls for 3 s;",
        "every node fetches and verifies the manifest (RTT + 5 ms) before re-announcing it.",
        "Prints the time until 99.99%% of live nodes know the manifest, the membership",
        "bytes per node per second (and the part sent across sites) and the false detections;",
        "then runs an idle window and prints its traffic and the CPU it took."
      })
  static final class Gossip implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--nodes", required = true, paramLabel = "N", description = "simulated nodes (>= 3)")
    int nodes;

    @Option(names = "--loss", defaultValue = "0", paramLabel = "P",
        description = "share of packets lost, 0.1 or 10%% (default: 0)")
    String loss;

    @Option(names = "--loss-model", defaultValue = "delay", paramLabel = "MODEL",
        description = {
          "what a lost packet does: delay (default) = its frame arrives one TCP retransmission timeout",
          "late (>= 200 ms, doubling if lost again) and later frames on that link wait behind it, as on",
          "the runtime's TCP links, which carry all membership traffic; drop = the frame is gone and",
          "frames may overtake one another, as on a datagram path (the model of figures before 2026-12-04)"
        })
    String lossModel;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S",
        description = "random seed; the same seed gives the same result (default: 1)")
    long seed;

    @Option(names = "--sites", paramLabel = "K", description = "sites; node i sits in site i mod K (default: N/100)")
    Integer sites;

    @Option(names = "--idle-s", defaultValue = "30", paramLabel = "SECONDS",
        description = "idle window after the scenario, counted on its own (0 to 3600; default: 30)")
    long idleSeconds;

    @Option(names = "--membership", defaultValue = "lan", paramLabel = "PRESET",
        description = "membership timing of every node: lan (default; seeds and, before 2026-12-04, agents) or lan-agent"
            + " (agents: a probe every 2 s, lan's suspicion timers)")
    String preset;

    @Option(names = "--probe-ms", paramLabel = "MS",
        description = "SWIM probe interval of every node, in ms (default: the lan preset's 1000; 600 to 60000)")
    Long probeMillis;

    @Option(names = "--confirmations", paramLabel = "K",
        description = "Lifeguard's k of every node: confirmations that bring a suspicion timer to its minimum (default: the preset's)")
    Integer confirmations;

    @Option(names = "--lone-seed", description = "node 0 (the seed that announces) alone in a site of its own")
    boolean loneSeed;

    @Option(names = "--cpu", description = "also print the CPU the idle window took on this machine (varies run to run)")
    boolean cpu;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() {
      SimConfig config = config();
      SimRun run = GossipSimulation.measure(config);
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        ObjectNode n = toJson(run.result());
        n.put("lossModel", config.lossModel().name().toLowerCase(Locale.ROOT));
        if (cpu && run.idleCpuMicrosPerNodeSecond() >= 0) {
          n.put("idleCpuMicrosPerNodeSecond", round1(run.idleCpuMicrosPerNodeSecond()));
        }
        if (run.idleWork() != null) {
          SimRun.IdleWork w = run.idleWork();
          n.put("idleFramesInPerNodePerSecond", round2(w.framesInPerNodeSecond()));
          n.put("idleFramesOutPerNodePerSecond", round2(w.framesOutPerNodeSecond()));
          n.put("idleTimerWakesPerNodePerSecond", round2(w.timerWakesPerNodeSecond()));
          n.put("idleWindowPeersPerNode", round1(w.windowPeersPerNode()));
          n.put("peersPerNode", round1(w.peersPerNode()));
          n.put("maxPeersPerNode", w.maxPeersPerNode());
        }
        SimRun.Detection d = run.detection();
        n.put("killDeadObservers", d.observers());
        n.put("killDeadMeanMillis", Math.round(d.meanMillis()));
        n.put("killDeadP99Millis", d.p99Millis());
        n.put("killDeadWorstMillis", d.worstMillis());
        n.put("seedSuspectMillis", d.seedSuspectMillis());
        n.put("seedDeadMillis", d.seedDeadMillis());
        n.put("seedSiteIdleWanBytesPerSecond", Math.round(d.seedSiteIdleWanBytesPerSecond()));
        n.put("busiestSiteIdleWanBytesPerSecond", Math.round(d.busiestSiteIdleWanBytesPerSecond()));
        JsonOut.print(o, n);
      } else {
        o.print(render(run.result(), config.lossModel()));
        SimRun.Detection d = run.detection();
        o.print(String.format(Locale.ROOT, "  killed node dead, per node     mean %s, p99 %s, worst %s (%,d nodes)%n",
            millis(Math.round(d.meanMillis())), millis(d.p99Millis()), millis(d.worstMillis()), d.observers()));
        o.print(String.format(Locale.ROOT, "  at node 0 (the seed%s)%s suspect after %s, dead after %s%n",
            config.loneSeed() ? ", alone in its site" : "", config.loneSeed() ? "" : "                     ", millis(d.seedSuspectMillis()), millis(d.seedDeadMillis())));
        if (d.seedSiteIdleWanBytesPerSecond() >= 0) {
          o.print(String.format(Locale.ROOT, "  idle site link (up + down)    node 0's site %,d bytes/s; busiest site %,d bytes/s%n",
              Math.round(d.seedSiteIdleWanBytesPerSecond()), Math.round(d.busiestSiteIdleWanBytesPerSecond())));
        }
        if (run.idleWork() != null) {
          SimRun.IdleWork w = run.idleWork();
          o.print(String.format(Locale.ROOT, "  idle work per node            %.2f frames in/s, %.2f frames out/s, %.2f timer wake-ups/s%n",
              w.framesInPerNodeSecond(), w.framesOutPerNodeSecond(), w.timerWakesPerNodeSecond()));
          o.print(String.format(Locale.ROOT, "  peers per node                %.1f in the idle window; %.1f since the start (max %d): the links a node holds%n",
              w.windowPeersPerNode(), w.peersPerNode(), w.maxPeersPerNode()));
        }
        if (cpu && run.idleCpuMicrosPerNodeSecond() >= 0) {
          o.print(String.format(Locale.ROOT, "  idle CPU (this machine)       %.1f us/node/s = %.4f%% of a core per node,"
              + " simulator included%n", run.idleCpuMicrosPerNodeSecond(), run.idleCpuMicrosPerNodeSecond() / 1e4));
        }
        o.flush();
      }
      return Main.OK;
    }

    private SimConfig config() {
      double p = parseLoss(loss);
      SimConfig.LossModel model = parseLossModel(lossModel);
      if (idleSeconds < 0 || idleSeconds > 3_600) {
        throw new UserInputException("--idle-s: " + idleSeconds + " is not within [0, 3600]");
      }
      try {
        SimConfig c = SimConfig.defaults(nodes, p, seed).withLossModel(model).withIdleMillis(idleSeconds * 1000);
        switch (preset) {
          case "lan" -> { }
          case "lan-agent" -> c = c.withMembership(io.patchmesh.mesh.MembershipConfig.lanAgent());
          default -> throw new UserInputException("--membership: " + preset + " is not lan or lan-agent");
        }
        if (probeMillis != null) {
          if (probeMillis < 600 || probeMillis > 60_000) {
            throw new UserInputException("--probe-ms: " + probeMillis + " is not within [600, 60000]");
          }
          c = c.withMembership(c.membership().withProbe(probeMillis, c.membership().probeTimeoutMillis()));
        }
        if (confirmations != null) {
          if (confirmations < 0 || confirmations > io.patchmesh.mesh.MembershipConfig.MAX_SUSPICION_CONFIRMATIONS) {
            throw new UserInputException("--confirmations: " + confirmations + " is not within [0, "
                + io.patchmesh.mesh.MembershipConfig.MAX_SUSPICION_CONFIRMATIONS + "]");
          }
          c = c.withMembership(c.membership().withSuspicionConfirmations(confirmations));
        }
        return (sites == null ? c : c.withSites(sites)).withLoneSeed(loneSeed);
      } catch (IllegalArgumentException e) {
        throw new UserInputException("sim gossip: " + e.getMessage());
      }
    }
  }

  /** "delay", "drop". */
  static SimConfig.LossModel parseLossModel(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "delay" -> SimConfig.LossModel.DELAY;
      case "drop" -> SimConfig.LossModel.DROP;
      default -> throw new UserInputException("--loss-model: '" + text + "' is not delay or drop");
    };
  }

  /** "0.1", "10%". */
  static double parseLoss(String text) {
    String t = text.trim();
    boolean percent = t.endsWith("%");
    try {
      double v = Double.parseDouble(percent ? t.substring(0, t.length() - 1) : t);
      double p = percent ? v / 100 : v;
      if (!(p >= 0 && p < 1)) {
        throw new UserInputException("--loss: '" + text + "' is not within [0, 1) (or [0%, 100%))");
      }
      return p;
    } catch (NumberFormatException e) {
      throw new UserInputException("--loss: '" + text + "' is not a share like 0.1 or 10%");
    }
  }

  static ObjectNode toJson(SimResult r) {
    ObjectNode n = JsonOut.object();
    n.put("nodes", r.nodes());
    n.put("sites", r.sites());
    n.put("loss", r.loss());
    n.put("seed", r.seed());
    n.put("heard9999Millis", r.heard99Millis());
    n.put("verified9999Millis", r.verified99Millis());
    n.put("verified9999Rounds", round1(r.verified99Rounds()));
    n.put("bytesPerNodePerSecond", Math.round(r.bytesPerNodePerSecond()));
    n.put("pushPullBytesPerNodePerSecond", Math.round(r.pushPullBytesPerNodePerSecond()));
    n.put("wanBytesPerNodePerSecond", Math.round(r.wanBytesPerNodePerSecond()));
    n.put("falseDeaths", r.falseDeaths());
    n.put("falseSuspicions", r.falseSuspicions());
    n.put("openSuspicionsAtEnd", r.openFalseSuspicionsAtEnd());
    n.put("killDetectedByAllMillis", r.killDetectedByAllMillis());
    n.put("stalledDeclaredDead", r.stalledDeclaredDead());
    n.put("simulatedMillis", r.simulatedMillis());
    n.put("messages", r.messages());
    n.put("idleMillis", r.idleMillis());
    n.put("idleBytesPerNodePerSecond", Math.round(r.idleBytesPerNodePerSecond()));
    n.put("idlePushPullBytesPerNodePerSecond", Math.round(r.idlePushPullBytesPerNodePerSecond()));
    n.put("idleWanBytesPerNodePerSecond", Math.round(r.idleWanBytesPerNodePerSecond()));
    n.put("idleWanBytesPerSiteLinkPerSecond", Math.round(r.idleWanBytesPerSiteLinkPerSecond()));
    n.put("idleFalseDeaths", r.idleFalseDeaths());
    n.put("idleFalseSuspicions", r.idleFalseSuspicions());
    return n;
  }

  static String render(SimResult r, SimConfig.LossModel model) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "gossip: %,d nodes in %,d sites, %s packet loss (%s), seed %d%n",
        r.nodes(), r.sites(), percent(r.loss()),
        model == SimConfig.LossModel.DELAY ? "lost frames arrive late" : "lost frames dropped", r.seed()));
    b.append(String.format(Locale.ROOT, "  manifest heard by 99.99%%      %s%n", millis(r.heard99Millis())));
    b.append(String.format(Locale.ROOT, "  manifest verified by 99.99%%   %s (%s gossip rounds)%n",
        millis(r.verified99Millis()), r.verified99Rounds() < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.verified99Rounds())));
    b.append(String.format(Locale.ROOT, "  membership traffic            %,d bytes/node/s (push-pull %,d; across sites %,d)%n",
        Math.round(r.bytesPerNodePerSecond()), Math.round(r.pushPullBytesPerNodePerSecond()),
        Math.round(r.wanBytesPerNodePerSecond())));
    b.append(String.format(Locale.ROOT, "  false detections              %d deaths, %,d suspicions of live nodes (%d open at end)%n",
        r.falseDeaths(), r.falseSuspicions(), r.openFalseSuspicionsAtEnd()));
    b.append(String.format(Locale.ROOT, "  killed node dead at all nodes %s; stalled node declared dead: %s%n",
        millis(r.killDetectedByAllMillis()), r.stalledDeclaredDead() ? "yes" : "no"));
    b.append(String.format(Locale.ROOT, "  simulated %s, %,d frames%n", millis(r.simulatedMillis()), r.messages()));
    if (r.idleMillis() > 0) {
      b.append(String.format(Locale.ROOT, "  idle for %s after that:%n", millis(r.idleMillis())));
      b.append(String.format(Locale.ROOT, "  idle membership traffic       %,d bytes/node/s (push-pull %,d)%n",
          Math.round(r.idleBytesPerNodePerSecond()), Math.round(r.idlePushPullBytesPerNodePerSecond())));
      b.append(String.format(Locale.ROOT, "  idle across sites (WAN)       %,d bytes/node/s = %,d bytes/s per site link (up + down)%n",
          Math.round(r.idleWanBytesPerNodePerSecond()), Math.round(r.idleWanBytesPerSiteLinkPerSecond())));
      b.append(String.format(Locale.ROOT, "  idle false detections         %d deaths, %,d suspicions of live nodes%n",
          r.idleFalseDeaths(), r.idleFalseSuspicions()));
    }
    return b.toString();
  }

  private static String millis(long ms) {
    if (ms < 0) {
      return "never";
    }
    return ms < 10_000 ? ms + " ms" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  private static String percent(double p) {
    return String.format(Locale.ROOT, "%.4g%%", p * 100).replaceAll("\\.?0+%$", "%");
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
