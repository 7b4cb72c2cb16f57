package io.patchmesh.seed.local;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.RuntimeOptions;
import io.patchmesh.seed.SeedNode;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.SigningKey;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A whole mesh in one JVM with real parts: a mesh CA and mutual TLS, a
 * publisher key and trust root, real RocksDB stores and real sockets on
 * loopback, and optionally an emulated WAN per site. Used by the integration
 * tests and by {@code patchmesh bench swarm}.
 */
public final class LocalMesh implements AutoCloseable {
  private final Path dir;
  private final SigningKey publisher;
  private final Path trustRoot;
  private final Path ca;
  private final WanEmulator wan;
  private final boolean tls;
  private final List<SeedNode> seeds = new ArrayList<>();
  private final List<NodeRuntime> agents = new ArrayList<>();
  private int counter;

  public LocalMesh(Path dir, WanEmulator wan, boolean tls) {
    this.dir = dir;
    this.wan = wan;
    this.tls = tls;
    try {
      Files.createDirectories(dir);
      publisher = SigningKey.generate();
      trustRoot = dir.resolve("root.pb");
      var root =
          new TrustRootBuilder()
              .version(1)
              .expires(Instant.now().plus(365, ChronoUnit.DAYS))
              .rootKey(publisher.verifyKey(), "publisher")
              .rootThreshold(1)
              .key(publisher.verifyKey(), "publisher")
              .rule(io.patchmesh.proto.PublisherRule.newBuilder().setName("local").setChannelPattern("**")
                  .addKeyIds(publisher.verifyKey().keyId()).setThreshold(1).addPaths("**").setInstall(true).build())
              .build();
      Files.write(trustRoot, TrustRootSigner.sign(root, List.of(publisher)).toByteArray());
      ca = dir.resolve("ca");
      if (tls) {
        new MeshCa().init(ca);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dir() {
    return dir;
  }

  public SigningKey publisher() {
    return publisher;
  }

  public Path trustRoot() {
    return trustRoot;
  }

  public WanEmulator wan() {
    return wan;
  }

  private NodeConfig.Builder config(String name, String site) {
    return config(name, site, false);
  }

  private NodeConfig.Builder config(String name, String site, boolean seedRole) {
    Path nodeDir = dir.resolve(name);
    NodeConfig.Builder b =
        new NodeConfig.Builder()
            .data(nodeDir.resolve("data").toString())
            .trust(trustRoot.toString())
            .listen("127.0.0.1:0")
            .admin("127.0.0.1:0")
            .site(site)
            // in-process fleets of hundreds would each run dpkg-query at start; tests that want an inventory turn it on
            .inventoryCollector("off");
    if (tls) {
      Path tlsDir = nodeDir.resolve("tls");
      if (!Files.exists(tlsDir.resolve(MeshCa.NODE_CERT))) {
        new MeshCa().issue(ca, name, site, tlsDir, seedRole);
      }
      b.tls(tlsDir.toString());
    } else {
      b.insecurePlaintext(true); // explicit: a test mesh without certificates
    }
    return b;
  }

  public SeedNode startSeed(String site) {
    return startSeed("seed-" + (++counter), site, o -> o);
  }

  public SeedNode startSeed(String name, String site, UnaryOperator<RuntimeOptions> tweak) {
    return startSeed(name, site, tweak, java.util.Optional.empty());
  }

  /** A seed that joins the seed cluster in {@code cluster}'s ZooKeeper (or steers alone when empty). */
  public SeedNode startSeed(String name, String site, UnaryOperator<RuntimeOptions> tweak,
      java.util.Optional<io.patchmesh.seed.cluster.ClusterConfig> cluster) {
    return startSeed(name, site, b -> b, tweak, cluster);
  }

  /** The same with the seed's config changed by {@code cfg} (e.g. {@code upload-yield}). */
  public SeedNode startSeed(String name, String site, UnaryOperator<NodeConfig.Builder> cfg,
      UnaryOperator<RuntimeOptions> tweak, java.util.Optional<io.patchmesh.seed.cluster.ClusterConfig> cluster) {
    NodeConfig.Builder b = cfg.apply(config(name, site, true));
    if (!seeds.isEmpty()) {
      b.join(List.of(joinAddress()));
    }
    RuntimeOptions o = RuntimeOptions.seed(null);
    if (wan != null) {
      o = o.withWan(wan);
    }
    SeedNode s = SeedNode.start(b.build(false), tweak.apply(o), cluster);
    seeds.add(s);
    return s;
  }

  /** host:port of the first live seed. */
  public String joinAddress() {
    for (SeedNode s : seeds) {
      if (s != null) {
        var a = s.node().transport().boundAddress();
        return "127.0.0.1:" + a.getPort();
      }
    }
    throw new IllegalStateException("no seed running");
  }

  public NodeRuntime startAgent(String name, String site) {
    return startAgent(name, site, b -> b, o -> o);
  }

  public NodeRuntime startAgent(
      String name, String site, UnaryOperator<NodeConfig.Builder> cfg, UnaryOperator<RuntimeOptions> tweak) {
    NodeConfig.Builder b =
        config(name, site).join(List.of(joinAddress())).applyDir(dir.resolve(name).resolve("apply").toString())
            .policyRoot(dir.resolve(name).resolve("policy-facts").toString()); // the host's battery and VPN never steer a test
    RuntimeOptions o = RuntimeOptions.agent();
    if (wan != null) {
      o = o.withWan(wan);
    }
    NodeRuntime n = NodeRuntime.start(cfg.apply(b).build(true), tweak.apply(o));
    agents.add(n);
    return n;
  }

  public List<NodeRuntime> agents() {
    return agents;
  }

  public List<SeedNode> seeds() {
    return seeds;
  }

  /** Builds, signs and publishes a patch through {@code seed} as `publish --seed` does. */
  public VerifiedManifest publish(SeedNode seed, Path content, String channel, long version, UnaryOperator<ManifestBuilder> tweak)
      throws IOException {
    VerifiedManifest vm = prepare(seed, content, channel, version, tweak);
    offer(seed, vm);
    return vm;
  }

  /**
   * The first half of {@link #publish}: cuts {@code content} into the seed's chunk store and signs and
   * verifies its manifest, which nobody holds or has heard of yet (a test can set peers up for it first).
   */
  public VerifiedManifest prepare(SeedNode seed, Path content, String channel, long version) throws IOException {
    return prepare(seed, content, channel, version, b -> b);
  }

  private VerifiedManifest prepare(SeedNode seed, Path content, String channel, long version, UnaryOperator<ManifestBuilder> tweak)
      throws IOException {
    ChunkStore chunks = seed.node().store().chunks();
    ManifestBuilder mb =
        tweak.apply(
            new ManifestBuilder(ChunkParams.DEFAULT)
                .channel(channel)
                .version(version)
                .expires(Instant.now().plus(30, ChronoUnit.DAYS)));
    Manifest m =
        mb.build(
            List.of(content),
            (id, buf, off, len) -> chunks.put(id, java.util.Arrays.copyOfRange(buf, off, off + len)),
            ProgressListener.NONE);
    SignedManifest sm = ManifestSigner.sign(m, List.of(publisher));
    return seed.node().verifier().verify(sm, seed.node().trustRoot(), seed.node().store().manifests(), Instant.now());
  }

  /** The second half of {@link #publish}: the seed holds the prepared manifest and announces it. */
  public void offer(SeedNode seed, VerifiedManifest vm) {
    seed.node().store().manifests().accept(vm);
    seed.node().offerVerified(vm);
  }

  public VerifiedManifest publish(SeedNode seed, Path content, String channel, long version) throws IOException {
    return publish(seed, content, channel, version, b -> b);
  }

  /**
   * Stops one agent like a crash (no graceful leave) and drops it from {@link #agents()}; its data
   * directory stays, so {@link #startAgent} with the same name restarts it.
   */
  public void kill(NodeRuntime agent) {
    agents.remove(agent);
    agent.kill();
  }

  /** Stops a seed like a crash (no leave) and drops it from {@link #seeds()}. */
  public void killSeed(SeedNode seed) {
    seeds.remove(seed);
    seed.kill();
  }

  /** Stops a seed gracefully (it leaves the mesh) and drops it from {@link #seeds()}. */
  public void stopSeed(SeedNode seed) {
    seeds.remove(seed);
    seed.close();
  }

  @Override
  public void close() {
    for (NodeRuntime a : agents) {
      try {
        a.close();
      } catch (RuntimeException e) {
        // keep closing the rest
      }
    }
    for (SeedNode s : seeds) {
      try {
        s.close();
      } catch (RuntimeException e) {
        // keep closing the rest
      }
    }
  }

  /** Writes {@code bytes} of deterministic pseudo-random content into {@code file}. */
  public static void randomFile(Path file, long bytes, long seed) throws IOException {
    Files.createDirectories(file.getParent());
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    byte[] buf = new byte[1 << 20];
    try (var out = Files.newOutputStream(file)) {
      long left = bytes;
      while (left > 0) {
        for (int i = 0; i < buf.length; i += 8) {
          long v = r.nextLong();
          for (int k = 0; k < 8 && i + k < buf.length; k++) {
            buf[i + k] = (byte) (v >>> (8 * k));
          }
        }
        int n = (int) Math.min(left, buf.length);
        out.write(buf, 0, n);
        left -= n;
      }
    }
  }

  /**
   * Overwrites {@code runs} evenly spaced runs of {@code totalBytes} in all with new pseudo-random
   * bytes (a "v2" that changes that much of the file; the size stays the same).
   */
  public static void overwriteRuns(Path file, int runs, long totalBytes, long seed) throws IOException {
    long size = Files.size(file);
    long run = totalBytes / runs;
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      for (int i = 0; i < runs; i++) {
        long at = size * (2L * i + 1) / (2L * runs) - run / 2;
        byte[] b = new byte[(int) run];
        for (int k = 0; k < b.length; k++) {
          b[k] = (byte) r.nextInt(256);
        }
        ch.write(java.nio.ByteBuffer.wrap(b), Math.max(0, at));
      }
    }
  }

  public static Map<String, String> labels(String... kv) {
    java.util.LinkedHashMap<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
