package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.BundleReader;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.SignedManifest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One loopback mesh of real processes for {@code bench attacks}: a seed and N agents, each
 * {@code bin/patchmesh seed|agent} with its own certificate from a fresh mesh CA (mutual TLS, the
 * launcher's defaults, the shipped units' heap limits), logs and GC logs in its directory. Builds
 * patch bundles ({@code publish --out}), pushes them to the seed and waits, through the seed's
 * admin API, until every agent applied them.
 */
final class AttackMesh implements AutoCloseable {
  static final String CHANNEL = "bench/attack";
  static final String SITE = "branch-a";
  private static final Pattern MESH = Pattern.compile("mesh /?127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern ADMIN = Pattern.compile("admin (http://127\\.0\\.0\\.1:\\d+)");

  final Path dir;
  final Path caDir;
  final List<Process> agents = new ArrayList<>();
  final List<InetSocketAddress> agentAddresses = new ArrayList<>();
  final List<NodeId> agentIds = new ArrayList<>();
  Process seed;
  InetSocketAddress seedAddress;
  private final Path launcher;
  private final long patchBytes;
  /** The agents' -Xmx (e.g. "256m"), or null for the launcher's default (what the shipped unit runs). */
  private final String agentHeap;
  private String adminUrl;

  AttackMesh(Path dir, Path launcher, long patchBytes, String agentHeap) {
    this.dir = dir;
    this.caDir = dir.resolve("tls/ca");
    this.launcher = launcher;
    this.patchBytes = patchBytes;
    this.agentHeap = agentHeap;
  }

  /** Keys, trust root, CA, certificates; starts the seed and {@code n} agents and waits until the seed sees them all alive. */
  void start(int n) throws Exception {
    Files.createDirectories(dir.resolve("logs"));
    Files.createDirectories(dir.resolve("keys"));
    cli("keygen", "--out", dir.resolve("keys/publisher").toString());
    cli("trust", "init", "--publisher", dir.resolve("keys/publisher.pub").toString(), "--channel", "bench/**",
        "--expires", "30d", "--sign", dir.resolve("keys/publisher.key").toString(), "--out", dir.resolve("keys/root.pb").toString());
    MeshCa ca = new MeshCa();
    ca.init(caDir);
    ca.issue(caDir, "seed", "dc", dir.resolve("tls/seed"), true);
    // port 0 everywhere, the bound ports read from the logs: nothing else on a shared machine can take them first
    seed = spawn("seed", "-Xmx1g", "seed", "--data", dir.resolve("data/seed").toString(), "--trust", root(),
        "--listen", "127.0.0.1:0", "--site", "dc", "--admin", "127.0.0.1:0",
        "--tls", dir.resolve("tls/seed").toString());
    int seedPort = Integer.parseInt(awaitLine("seed", MESH));
    seedAddress = new InetSocketAddress("127.0.0.1", seedPort);
    adminUrl = awaitLine("seed", ADMIN);
    for (int i = 1; i <= n; i++) {
      String name = SITE + "-" + i;
      Path tls = dir.resolve("tls/" + name);
      ca.issue(caDir, name, SITE, tls);
      agentIds.add(NodeIdentity.load(tls).nodeId());
      agents.add(spawn(name, agentHeap == null ? null : "-Xmx" + agentHeap, "agent", "--data", dir.resolve("data/" + name).toString(), "--trust", root(),
          "--listen", "127.0.0.1:0", "--site", SITE, "--join", "127.0.0.1:" + seedPort,
          "--apply-dir", dir.resolve("apply/" + name).toString(), "--tls", tls.toString()));
    }
    for (int i = 1; i <= n; i++) {
      agentAddresses.add(new InetSocketAddress("127.0.0.1", Integer.parseInt(awaitLine(SITE + "-" + i, MESH))));
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (aliveMembers() < n + 1) {
      if (System.nanoTime() > deadline) {
        throw new CliFailure(Main.FAILURE, "the mesh did not form within 3 minutes; see " + dir.resolve("logs"));
      }
      checkAlive();
      Thread.sleep(200);
    }
  }

  private String root() {
    return dir.resolve("keys/root.pb").toString();
  }

  /** The first group of {@code p} in node {@code name}'s log, once it is there (the node printed its start line). */
  private String awaitLine(String name, Pattern p) throws IOException, InterruptedException {
    Path log = dir.resolve("logs/" + name + ".log");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline) {
      Matcher m = p.matcher(Files.exists(log) ? Files.readString(log) : "");
      if (m.find()) {
        return m.group(1);
      }
      checkAlive();
      Thread.sleep(100);
    }
    throw new CliFailure(Main.FAILURE, name + " printed no start line within 3 minutes; see " + log);
  }

  /** {@code bin/patchmesh ARGS} with the launcher's own JVM options and {@code heap} as the units set it (JAVA_TOOL_OPTIONS). */
  /**
   * Starts {@code bin/patchmesh ARGS} with the launcher's defaults for its command, plus {@code heap}
   * (an -Xmx, or null) in PATCHMESH_JAVA_OPTS, which the launcher puts after its defaults so that it
   * wins (JAVA_TOOL_OPTIONS would lose to the launcher's own -Xmx64m for agents).
   */
  private Process spawn(String name, String heap, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("logs/" + name + ".log").toFile());
    Map<String, String> env = pb.environment();
    env.remove("JAVA_TOOL_OPTIONS");
    env.put("PATCHMESH_JAVA_OPTS", (heap == null ? "" : heap + " ") + "-Xlog:gc:file=" + gcLog(name));
    return pb.start();
  }

  Path gcLog(String name) {
    return dir.resolve("logs/" + name + ".gc.log");
  }

  private int aliveMembers() {
    try {
      int alive = 0;
      for (JsonNode m : admin().get("/api/v1/status").path("members")) {
        alive += m.path("state").asText().equals("alive") ? 1 : 0;
      }
      return alive;
    } catch (RuntimeException notYet) {
      return 0;
    }
  }

  private AdminClient admin() {
    return new AdminClient(adminUrl, dir.resolve("data/seed/admin.token"));
  }

  /** Fails if a node process has exited. */
  void checkAlive() {
    if (seed != null && !seed.isAlive()) {
      throw new CliFailure(Main.FAILURE, "the seed exited (code " + seed.exitValue() + "); see " + dir.resolve("logs/seed.log"));
    }
    for (int i = 0; i < agents.size(); i++) {
      if (!agents.get(i).isAlive()) {
        throw new CliFailure(Main.FAILURE, "agent " + (i + 1) + " exited (code " + agents.get(i).exitValue() + "); see " + dir.resolve("logs"));
      }
    }
  }

  /** Runs one patchmesh command in this JVM (no JVM start to time); fails with its output if it fails. */
  private String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    if (code != Main.OK) {
      throw new CliFailure(Main.FAILURE, "patchmesh " + String.join(" ", args) + ": exit " + code + ": " + err.toString().trim());
    }
    return out.toString();
  }

  /** A patch of random bytes built and signed into a bundle, not yet pushed. */
  Path bundle(long version) throws IOException {
    Path content = dir.resolve("patch/v" + version + "/lib/bench.bin");
    Files.createDirectories(content.getParent());
    Random random = new Random(version);
    byte[] buf = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(content)) {
      for (long left = patchBytes; left > 0; left -= buf.length) {
        random.nextBytes(buf);
        out.write(buf, 0, (int) Math.min(buf.length, left));
      }
    }
    Path bundle = dir.resolve("bundles/v" + version);
    cli("publish", "--key", dir.resolve("keys/publisher.key").toString(), "--channel", CHANNEL,
        "--version", Long.toString(version), "--out", bundle.toString(), content.getParent().toString());
    return bundle;
  }

  static SignedManifest signedManifest(Path bundle) {
    return BundleReader.open(bundle).readSignedManifest();
  }

  /**
   * Pushes {@code bundle} to the seed and waits until every agent applied it (the seed's rollout
   * view, as {@code rollout --wait} reads it, with every agent counted as applied). Returns the
   * seconds from the push to the last agent's apply, or -1 after {@code timeoutSeconds}.
   */
  double pushAndWait(Path bundle, long timeoutSeconds) throws InterruptedException {
    String id = AttackRogue.idOf(signedManifest(bundle)).hex();
    long t0 = System.nanoTime();
    cli("push", "--seed", adminUrl, "--token-file", dir.resolve("data/seed/admin.token").toString(), bundle.toString());
    long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < deadline) {
      checkAlive();
      if (appliedEverywhere(id)) {
        return (System.nanoTime() - t0) / 1e9;
      }
      Thread.sleep(100);
    }
    return -1;
  }

  private boolean appliedEverywhere(String id) {
    try {
      int applied = 0;
      for (JsonNode s : admin().get("/api/v1/rollouts/" + id).path("sites")) {
        applied += s.path("applied").asInt();
      }
      return applied >= agents.size();
    } catch (RuntimeException notYet) {
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    List<Process> all = new ArrayList<>(agents);
    if (seed != null) {
      all.add(seed);
    }
    all.forEach(Process::destroy);
    for (Process p : all) {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
