package io.patchmesh.tools;

import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.tools.AttackRogue.Attack;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code patchmesh bench attacks}: issue 12's attacks against a loopback mesh of real processes.
 * For each attack a fresh mesh (CA, seed, N agents as {@code bin/patchmesh} processes with mutual
 * TLS) applies a warm-up patch, then a baseline patch without the attack, then a patch pushed while
 * a rogue with a valid agent certificate (this JVM) runs the attack. Reports both times to every
 * agent applied, their ratio (goal: at most 1.5), and the victim's peak heap, peak RSS and CPU.
 */
@Command(
    name = "attacks",
    description = {
      "Issue 12's attacks against a loopback mesh of real processes (a benchmark, run by hand).",
      "Per attack: time for a genuine manifest to reach every agent during the attack against",
      "without it (goal: <= 1.5x), the victim's peak heap, peak RSS (VmHWM) and CPU seconds.",
      "Needs Linux (/proc) and the built jar next to bin/patchmesh."
    })
final class AttackBenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--agents", defaultValue = "4", paramLabel = "N", description = "honest agents (default: 4)")
  int agents;

  @Option(names = "--size", defaultValue = "8MiB", paramLabel = "SIZE", description = "each patch (default: 8MiB)")
  String size;

  @Option(names = "--attack", paramLabel = "NAME",
      description = "run only this attack (repeat): silent (the control), evict, flood, trickle, fake-downloads, bad-signatures, dead-gossip")
  List<String> only = new ArrayList<>();

  @Option(names = "--warmup", defaultValue = "10", paramLabel = "SECONDS", description = "the attack runs this long before the push (default: 10)")
  int warmup;

  @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", description = "per patch (default: 300)")
  int timeout;

  @Option(names = "--out", paramLabel = "DIR", description = "meshes, logs and results.md (default: /tmp/patchmesh-bench/attacks-DATE)")
  Path out;

  @Option(names = "--agent-heap", paramLabel = "SIZE",
      description = "the agents' -Xmx, e.g. 256m (default: the launcher's, -Xmx64m, as the shipped unit runs them)")
  String agentHeap;

  @Option(names = "--launcher", paramLabel = "PATH", description = "the patchmesh launcher (default: bin/patchmesh beside the jar's tools/target)")
  Path launcher;

  /** One attack's figures. */
  record Row(Attack attack, String victim, double baseline, double during, double cpuBaseline, double cpuAttack,
      double attackSeconds, long peakHeap, long committedHeap, long peakRss, long rogueBytes, String failure) {}

  @Override
  public Integer call() throws Exception {
    long bytes = Units.parseBytes("--size", size);
    if (agents < 1 || agents > 32 || bytes < 1 || bytes > (1L << 30) || warmup < 0 || timeout < 1) {
      throw new UserInputException("--agents 1..32, --size 1 B..1GiB, --warmup >= 0 and --timeout >= 1");
    }
    if (agentHeap != null && !agentHeap.matches("[1-9][0-9]{0,5}[mMgG]")) {
      throw new UserInputException("--agent-heap " + agentHeap + ": a size like 256m or 1g");
    }
    Set<Attack> attacks = EnumSet.noneOf(Attack.class);
    for (String a : only) {
      try {
        attacks.add(Attack.valueOf(a.toUpperCase(Locale.ROOT).replace('-', '_')));
      } catch (IllegalArgumentException e) {
        throw new UserInputException("--attack " + a + ": not one of silent, evict, flood, trickle, fake-downloads, bad-signatures, dead-gossip");
      }
    }
    if (attacks.isEmpty()) {
      attacks = EnumSet.allOf(Attack.class);
    }
    Path bin = launcher != null ? launcher : defaultLauncher();
    if (!Files.isExecutable(bin)) {
      throw new UserInputException(bin + ": no patchmesh launcher there; pass --launcher bin/patchmesh");
    }
    String started = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HHmm'Z'").format(Instant.now().atOffset(ZoneOffset.UTC));
    Path dir = out != null ? out : Path.of("/tmp/patchmesh-bench/attacks-" + started);
    Files.createDirectories(dir);
    PrintWriter w = spec.commandLine().getOut();
    List<Row> rows = new ArrayList<>();
    for (Attack a : attacks) {
      w.printf("bench attacks: %s ...%n", a.what);
      w.flush();
      Row r = run(a, dir.resolve(a.name().toLowerCase(Locale.ROOT).replace('_', '-')), bin, bytes);
      rows.add(r);
      w.println("  " + line(r));
      w.flush();
    }
    String report = markdown(rows, bytes, started);
    Files.writeString(dir.resolve("results.md"), report);
    w.print(report);
    w.println("results and logs: " + dir);
    w.flush();
    return rows.stream().anyMatch(r -> r.failure() != null) ? Main.FAILURE : Main.OK;
  }

  private Row run(Attack attack, Path dir, Path bin, long bytes) throws Exception {
    boolean seedIsVictim = attack == Attack.DEAD_GOSSIP;
    String victimName = seedIsVictim ? "seed" : AttackMesh.SITE + "-1";
    double baseline = -1;
    double during = -1;
    double cpuBase = -1;
    double cpuAttack = -1;
    double attackSeconds = -1;
    long rogueBytes = -1;
    String failure = null;
    AttackMesh mesh = new AttackMesh(dir, bin, bytes, agentHeap);
    long pid = -1;
    try {
      mesh.start(agents);
      Process victim = seedIsVictim ? mesh.seed : mesh.agents.get(0);
      pid = victim.pid();
      Path warm = mesh.bundle(1);
      Path base = mesh.bundle(2);
      Path genuine = mesh.bundle(3);
      if (mesh.pushAndWait(warm, timeout) < 0) {
        throw new IllegalStateException("the warm-up patch did not reach every agent within " + timeout + " s");
      }
      double c0 = ProcStats.cpuSeconds(pid);
      baseline = mesh.pushAndWait(base, timeout);
      cpuBase = ProcStats.cpuSeconds(pid) - c0;
      SignedManifest sm = AttackMesh.signedManifest(genuine);
      try (AttackRogue rogue = new AttackRogue(mesh.caDir, dir.resolve("rogue"), AttackMesh.SITE,
          attack == Attack.FAKE_DOWNLOADS ? 4 : 1)) {
        long a0 = System.nanoTime();
        double c1 = ProcStats.cpuSeconds(pid);
        rogue.start(attack, new AttackRogue.Target(mesh.seedAddress, mesh.agentAddresses, mesh.agentIds,
            AttackMesh.SITE, sm, 3));
        Thread.sleep(warmup * 1000L); // a benchmark, not a test: the attack gets a head start
        mesh.checkAlive();
        during = mesh.pushAndWait(genuine, timeout);
        cpuAttack = ProcStats.cpuSeconds(pid) - c1;
        attackSeconds = (System.nanoTime() - a0) / 1e9;
        rogueBytes = rogue.bytesSent.get();
      }
      if (baseline < 0 || during < 0) {
        failure = "a patch did not reach every agent within " + timeout + " s";
      }
      mesh.checkAlive();
    } catch (CliFailure | IllegalStateException | IOException e) {
      failure = e.getMessage();
    }
    long rss = pid > 0 ? ProcStats.peakRssBytes(pid) : -1;
    mesh.close();
    return new Row(attack, victimName, baseline, during, cpuBase, cpuAttack, attackSeconds,
        ProcStats.peakHeapBytes(mesh.gcLog(victimName)), ProcStats.committedHeapBytes(mesh.gcLog(victimName)), rss,
        rogueBytes, failure);
  }

  private static Path defaultLauncher() throws URISyntaxException {
    Path jar = Path.of(AttackBenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    // tools/target/patchmesh.jar (or tools/target/classes) -> bin/patchmesh
    return jar.toAbsolutePath().getParent().getParent().getParent().resolve("bin/patchmesh");
  }

  private static String secs(double s) {
    return s < 0 ? "-" : String.format(Locale.ROOT, "%.1f", s);
  }

  private static String mib(long b) {
    return b < 0 ? "-" : Long.toString(b >> 20);
  }

  private static String ratio(Row r) {
    return r.baseline() > 0 && r.during() > 0 ? String.format(Locale.ROOT, "%.2f", r.during() / r.baseline()) : "-";
  }

  static String line(Row r) {
    return String.format(Locale.ROOT, "baseline %s s, during %s s (%s x); %s: peak heap %s MiB, peak RSS %s MiB, CPU %s s (baseline push %s s)%s",
        secs(r.baseline()), secs(r.during()), ratio(r), r.victim(), mib(r.peakHeap()), mib(r.peakRss()),
        secs(r.cpuAttack()), secs(r.cpuBaseline()), r.failure() == null ? "" : "; FAILED: " + r.failure());
  }

  private String markdown(List<Row> rows, long bytes, String started) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%n### bench attacks, %s: seed + %d agents (%s), %s patches, attack head start %d s%n%n",
        started, agents, agentHeap == null ? "the launcher's agent heap" : "-Xmx" + agentHeap, size, warmup));
    b.append("| attack | victim | without (s) | during (s) | ratio | victim peak heap / committed (MiB) | victim peak RSS (MiB) "
        + "| victim CPU-s: baseline push / attack (wall s) | rogue sent (KiB) | outcome |\n");
    b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (Row r : rows) {
      String outcome = r.failure() != null ? "FAILED: " + r.failure()
          : r.during() / r.baseline() <= 1.5 ? "within 1.5x" : "OVER 1.5x";
      b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s / %s | %s | %s / %s (%s) | %s | %s |%n",
          r.attack().what, r.victim(), secs(r.baseline()), secs(r.during()), ratio(r), mib(r.peakHeap()),
          mib(r.committedHeap()), mib(r.peakRss()), secs(r.cpuBaseline()), secs(r.cpuAttack()), secs(r.attackSeconds()),
          r.rogueBytes() < 0 ? "-" : Long.toString(r.rogueBytes() >> 10), outcome));
    }
    return b.toString();
  }
}
