package io.patchmesh.seed.local;

import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.SeedNode;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code patchmesh bench swarm}: a whole mesh in this JVM ({@link LocalMesh}: TLS, RocksDB, real
 * sockets) with an emulated WAN link per site, one seed in an unshaped data centre. Publishes a
 * random patch, waits until every agent applied it, then a v2 that changes a fraction of it, and
 * reports the figures the design promises: each chunk crosses each site's link once, the rollout
 * runs at the speed of the site links, and the seed sends about one copy per site.
 */
public final class SwarmBench {
  private SwarmBench() {}

  /**
   * @param sites branch sites, each behind its own emulated WAN link
   * @param agentsPerSite agents in each site
   * @param sizeBytes patch size
   * @param wanMbit each site link's rate, both directions, megabits per second
   * @param v2ChangeFraction share of the bytes the v2 changes (0 = no v2)
   * @param timeoutSeconds give up on a rollout after this long
   */
  public record Config(int sites, int agentsPerSite, long sizeBytes, double wanMbit, double v2ChangeFraction,
      long timeoutSeconds) {
    public Config {
      if (sites < 1 || agentsPerSite < 1 || sizeBytes < 1 || !(wanMbit > 0) || v2ChangeFraction < 0
          || v2ChangeFraction >= 1 || timeoutSeconds < 1) {
        throw new IllegalArgumentException("bad swarm bench config");
      }
    }

    public Config(int sites, int agentsPerSite, long sizeBytes, double wanMbit) {
      this(sites, agentsPerSite, sizeBytes, wanMbit, 0.02, 3600);
    }

    /** The default scenario: 3 sites x 4 agents, 256 MB, 20 Mbit/s per site. */
    public static Config defaults() {
      return new Config(3, 4, 256L << 20, 20);
    }

    double idealSeconds() {
      return sizeBytes * 8 / (wanMbit * 1_000_000);
    }
  }

  /**
   * @param wanInPerSite WAN bytes into each site during v1 / patch size (goal <= 1.02)
   * @param rolloutSeconds published (publish returned) to the last agent's apply, v1
   * @param rolloutVsLink rollout time / (size / WAN rate) (goal <= 1.15)
   * @param seedEgress seed's bytes out / (sites x size) (goal <= 1.05)
   * @param p50AgentSeconds median agent's published-to-applied time
   * @param p99AgentSeconds 99th percentile of the same
   * @param v2WanInPerSite WAN bytes into each site during v2 / patch size (the v2 changes
   *     {@code v2ChangeFraction} of it); empty without a v2
   * @param v2RolloutSeconds published to the last apply, v2 (0 without a v2)
   * @param v1CpuSeconds CPU seconds this JVM's threads spent during v1, by kind of thread: where a
   *     CPU-bound rollout's time goes (node loops, workers hashing and storing, Netty I/O with TLS)
   * @param v1SiteSeconds per site, published to its last agent's apply, v1: a site that finishes late
   *     shows whether the time goes to one slow site or to all
   * @param v1LinkUse per site, WAN bytes into it per {@link #LINK_WINDOW_SECONDS} window of v1 as a
   *     share of what the link could carry: where a link sat idle
   * @param v1PublishSeconds the seed's publish (chunk, hash, store and sign the patch) before any
   *     agent can start; not part of {@code rolloutSeconds}
   */
  public record Result(
      Config config,
      Map<String, Double> wanInPerSite,
      double rolloutSeconds,
      double rolloutVsLink,
      double seedEgress,
      double p50AgentSeconds,
      double p99AgentSeconds,
      Map<String, Double> v2WanInPerSite,
      double v2RolloutSeconds,
      Map<String, Double> v1CpuSeconds,
      Map<String, Double> v1SiteSeconds,
      Map<String, List<Double>> v1LinkUse,
      double v1PublishSeconds) {

    public double worstWanIn() {
      return wanInPerSite.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    public double worstV2WanIn() {
      return v2WanInPerSite.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    public String toMarkdown() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "%d sites x %d agents, %.1f MB patch, %.1f Mbit/s per site link%n%n",
          config.sites(), config.agentsPerSite(), config.sizeBytes() / 1048576.0, config.wanMbit()));
      b.append("| figure | value | goal |\n|---|---|---|\n");
      for (var e : wanInPerSite.entrySet()) {
        b.append(String.format(Locale.ROOT, "| WAN bytes into %s / size | %.4f | <= 1.02 |%n", e.getKey(), e.getValue()));
      }
      b.append(String.format(Locale.ROOT, "| rollout time / (size / WAN rate) | %.3f (%.1f s vs %.1f s) | <= 1.15 |%n",
          rolloutVsLink, rolloutSeconds, config.idealSeconds()));
      b.append(String.format(Locale.ROOT, "| seed egress / (sites x size) | %.4f | <= 1.05 |%n", seedEgress));
      b.append(String.format(Locale.ROOT, "| agent completion p50 / p99 | %.1f s / %.1f s | |%n", p50AgentSeconds, p99AgentSeconds));
      for (var e : v2WanInPerSite.entrySet()) {
        b.append(String.format(Locale.ROOT, "| v2 (%.0f%% changed): WAN bytes into %s / size | %.4f | ~%.2f |%n",
            config.v2ChangeFraction() * 100, e.getKey(), e.getValue(), config.v2ChangeFraction()));
      }
      if (!v2WanInPerSite.isEmpty()) {
        b.append(String.format(Locale.ROOT, "| v2 rollout time | %.1f s | |%n", v2RolloutSeconds));
      }
      StringBuilder cpu = new StringBuilder();
      for (var e : v1CpuSeconds.entrySet()) {
        cpu.append(cpu.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.1f", e.getKey(), e.getValue()));
      }
      b.append("| v1 CPU seconds by thread kind | ").append(cpu).append(" | |\n");
      b.append(String.format(Locale.ROOT, "| v1 publish (chunk, hash, store, sign) | %.1f s before the rollout's clock starts | |%n",
          v1PublishSeconds));
      for (var e : v1SiteSeconds.entrySet()) {
        StringBuilder use = new StringBuilder();
        for (double u : v1LinkUse.getOrDefault(e.getKey(), List.of())) {
          use.append(String.format(Locale.ROOT, " %.0f", u * 100));
        }
        b.append(String.format(Locale.ROOT, "| v1 %s: done at %.1f s; link use %% per %d s:%s | | |%n",
            e.getKey(), e.getValue(), LINK_WINDOW_SECONDS, use));
      }
      return b.toString();
    }
  }

  /** Width of the windows in which {@link Result#v1LinkUse()} is measured. */
  public static final int LINK_WINDOW_SECONDS = 10;

  public static Result run(Config config) {
    Path dir;
    try {
      dir = Files.createTempDirectory("patchmesh-bench-swarm");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return run(config, dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(dir);
    }
  }

  private static Result run(Config config, Path dir) throws IOException {
    WanEmulator wan = new WanEmulator();
    List<String> sites = new ArrayList<>();
    for (int s = 0; s < config.sites(); s++) {
      sites.add("branch-" + (char) ('a' + s % 26) + (s >= 26 ? Integer.toString(s / 26) : ""));
      wan.siteMbit(sites.get(s), config.wanMbit());
    }
    String dc = "dc";
    try (LocalMesh mesh = new LocalMesh(dir.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed(dc);
      for (String s : sites) {
        for (int i = 1; i <= config.agentsPerSite(); i++) {
          mesh.startAgent(s + "-" + i, s);
        }
      }
      int nodes = 1 + sites.size() * config.agentsPerSite();
      // a rollout starts on a settled mesh: every node knows every other (as in the field)
      waitFor(() -> seed.node().members().size() == nodes
          && mesh.agents().stream().allMatch(a -> a.members().stream()
              .filter(m -> m.status() == io.patchmesh.mesh.MemberStatus.ALIVE).count() == nodes),
          120, "the mesh to converge");
      warmUpTlsCipher();
      Path content = dir.resolve("patch/payload.bin");
      LocalMesh.randomFile(content, config.sizeBytes(), 1);

      Map<String, Double> cpu0 = cpuByThreadKind();
      Rollout v1 = rollOut(mesh, seed, content, 1, sites, wan, config);
      Map<String, Double> cpu = cpuByThreadKind();
      cpu.replaceAll((k, v) -> v - cpu0.getOrDefault(k, 0.0));
      long seedOut = v1.wanOut.get(dc);
      Map<String, Double> v2In = new LinkedHashMap<>();
      double v2Seconds = 0;
      if (config.v2ChangeFraction() > 0) {
        LocalMesh.overwriteRuns(content, 8, (long) (config.sizeBytes() * config.v2ChangeFraction()), 2);
        Rollout v2 = rollOut(mesh, seed, content, 2, sites, wan, config);
        v2In = v2.inRatio;
        v2Seconds = v2.seconds;
      }
      double[] agentSeconds = v1.agentSeconds;
      Arrays.sort(agentSeconds);
      return new Result(
          config,
          v1.inRatio,
          v1.seconds,
          v1.seconds / config.idealSeconds(),
          (double) seedOut / (sites.size() * (double) config.sizeBytes()),
          percentile(agentSeconds, 0.50),
          percentile(agentSeconds, 0.99),
          v2In,
          v2Seconds,
          cpu,
          v1.siteSeconds,
          v1.linkUse,
          v1.publishSeconds);
    }
  }

  private record Rollout(double seconds, double[] agentSeconds, Map<String, Double> inRatio, Map<String, Long> wanOut,
      Map<String, Double> siteSeconds, Map<String, List<Double>> linkUse, double publishSeconds) {}

  private static Rollout rollOut(LocalMesh mesh, SeedNode seed, Path content, long version, List<String> sites,
      WanEmulator wan, Config config) throws IOException {
    Map<String, Long> in0 = new LinkedHashMap<>();
    Map<String, Long> out0 = new LinkedHashMap<>();
    for (String s : sites) {
      in0.put(s, wan.wanBytesIn(s));
    }
    out0.put("dc", wan.wanBytesOut("dc"));
    List<NodeRuntime> agents = List.copyOf(mesh.agents());
    double[] done = new double[agents.size()];
    Arrays.fill(done, -1);
    // The rollout's clock starts once the manifest is published (as in the field bench, and as
    // the baselines start with the file already on their server); the publish itself (chunk,
    // hash, store, sign) is reported beside it.
    long tp = System.nanoTime();
    VerifiedManifest vm = mesh.publish(seed, content, "bench/swarm", version);
    long t0 = System.nanoTime();
    double publishSeconds = (t0 - tp) / 1e9;
    long deadline = t0 + config.timeoutSeconds() * 1_000_000_000L;
    int left = agents.size();
    Map<String, List<Double>> linkUse = new LinkedHashMap<>();
    Map<String, Long> windowStart = new LinkedHashMap<>(in0);
    for (String s : sites) {
      linkUse.put(s, new ArrayList<>());
    }
    long windowNanos = LINK_WINDOW_SECONDS * 1_000_000_000L;
    long nextWindow = t0 + windowNanos;
    double windowCapacity = config.wanMbit() * 1_000_000 / 8 * LINK_WINDOW_SECONDS;
    while (left > 0) {
      if (System.nanoTime() >= nextWindow) {
        nextWindow += windowNanos;
        for (String s : sites) {
          long in = wan.wanBytesIn(s);
          linkUse.get(s).add((in - windowStart.get(s)) / windowCapacity);
          windowStart.put(s, in);
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("v" + version + ": " + left + " agents had not applied after "
            + config.timeoutSeconds() + " s");
      }
      for (int i = 0; i < agents.size(); i++) {
        if (done[i] < 0 && applied(agents.get(i), vm)) {
          done[i] = (System.nanoTime() - t0) / 1e9;
          left--;
        }
      }
      sleepQuietly(100);
    }
    double seconds = Arrays.stream(done).max().orElse(0);
    long[] tails = agents.stream().mapToLong(NodeRuntime::lastApplyTailMillis).sorted().toArray();
    long staged = agents.stream().filter(NodeRuntime::lastApplyStaged).count();
    System.out.printf(Locale.ROOT, "v%d: last chunk stored -> applied: median %.2f s, max %.2f s; %d of %d agents committed staged files%n",
        version, tails[tails.length / 2] / 1e3, tails[tails.length - 1] / 1e3, staged, agents.size());
    Map<String, Double> siteSeconds = new LinkedHashMap<>();
    for (int i = 0; i < agents.size(); i++) {
      siteSeconds.merge(agents.get(i).site(), done[i], Math::max);
    }
    siteSeconds.keySet().retainAll(sites);
    Map<String, Double> inRatio = new LinkedHashMap<>();
    for (String s : sites) {
      inRatio.put(s, (wan.wanBytesIn(s) - in0.get(s)) / (double) config.sizeBytes());
    }
    Map<String, Long> out = Map.of("dc", wan.wanBytesOut("dc") - out0.get("dc"));
    return new Rollout(seconds, done, inRatio, out, siteSeconds, linkUse, publishSeconds);
  }

  /**
   * CPU time of this JVM's live threads so far, by kind. Threads that ended are missing, which is
   * fine within one rollout: nodes keep their threads until the mesh closes.
   */
  private static Map<String, Double> cpuByThreadKind() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Double> out = new LinkedHashMap<>();
    for (String k : List.of("node loops", "workers", "netty I/O", "other")) {
      out.put(k, 0.0);
    }
    for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long nanos = mx.getThreadCpuTime(t.getThreadId());
      if (nanos <= 0) {
        continue;
      }
      String n = t.getThreadName();
      String kind = n.startsWith("pm-loop-") ? "node loops"
          : n.startsWith("pm-work-") ? "workers"
          : n.contains("EventLoop") || n.startsWith("nioEventLoop") || n.startsWith("epoll") ? "netty I/O"
          : "other";
      out.merge(kind, nanos / 1e9, Double::sum);
    }
    return out;
  }

  /**
   * Runs the TLS record cipher (AES-GCM on direct buffers, as the mesh's TLS 1.3 uses it) hot before
   * the clock starts. Until C2 compiles them the JDK's GHASH and AES-CTR run as plain Java, not as
   * CPU intrinsics, ~10x the CPU per byte; with 13 nodes' traffic in one JVM on 2 shared cores that
   * took the first 60-90 s of the rollout (a quarter of all CPU samples). A node on its own host
   * warms up within its first megabytes; JMH-style warm-up keeps that artefact out of the figure.
   */
  static void warmUpTlsCipher() {
    try {
      javax.crypto.KeyGenerator kg = javax.crypto.KeyGenerator.getInstance("AES");
      kg.init(128);
      javax.crypto.SecretKey key = kg.generateKey();
      javax.crypto.Cipher enc = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
      javax.crypto.Cipher dec = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
      java.nio.ByteBuffer plain = java.nio.ByteBuffer.allocateDirect(16384);
      java.nio.ByteBuffer sealed = java.nio.ByteBuffer.allocateDirect(16384 + 16);
      java.nio.ByteBuffer opened = java.nio.ByteBuffer.allocateDirect(16384);
      byte[] iv = new byte[12];
      for (int i = 0; i < 4096; i++) { // 64 MiB each way
        iv[0] = (byte) i;
        iv[1] = (byte) (i >> 8);
        javax.crypto.spec.GCMParameterSpec spec = new javax.crypto.spec.GCMParameterSpec(128, iv);
        enc.init(javax.crypto.Cipher.ENCRYPT_MODE, key, spec);
        plain.clear();
        sealed.clear();
        enc.doFinal(plain, sealed);
        sealed.flip();
        dec.init(javax.crypto.Cipher.DECRYPT_MODE, key, spec);
        opened.clear();
        dec.doFinal(sealed, opened);
      }
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable: " + e.getMessage(), e);
    }
  }

  private static boolean applied(NodeRuntime n, VerifiedManifest vm) {
    for (ManifestStatus s : n.manifestStatuses()) {
      if (s.getManifestId().equals(vm.id().toByteString())) {
        return s.getPhase() == ManifestPhase.PHASE_APPLIED;
      }
    }
    return false;
  }

  private static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static void waitFor(java.util.function.BooleanSupplier cond, long seconds, String what) {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      sleepQuietly(100);
    }
  }

  /** The bench polls agents' status; a fixed poll period is its measurement resolution. */
  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp dir
    }
  }

  /** {@code SwarmBench [sites agentsPerSite sizeMB wanMbit]}: runs one scenario and prints Markdown. */
  public static void main(String[] args) {
    Config d = Config.defaults();
    Config c = args.length == 4
        ? new Config(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Long.parseLong(args[2]) << 20,
            Double.parseDouble(args[3]))
        : d;
    System.out.println(run(c).toMarkdown());
  }
}
