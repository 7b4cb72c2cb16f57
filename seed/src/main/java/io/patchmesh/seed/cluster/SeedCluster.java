package io.patchmesh.seed.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This seed's membership in a cluster of seeds: one Curator session to the
 * ZooKeeper ensemble, the cluster's identity check, this seed's registration
 * (an ephemeral znode), leader election (a {@link LeaderLatch}) and a cache
 * of the cluster's znodes that every read is served from.
 *
 * <p>Layout under the chroot, at {@link #ROOT}:
 * <pre>
 *   cluster                     fingerprint of the trust root and mesh CA (written by the first seed)
 *   leader/...                  LeaderLatch participants
 *   seeds/SEED_ID               ephemeral: "site admin-url mesh-address" of each live seed
 *   rollouts/MANIFEST_ID        the rollout record (state:stage:reason), written only by compare-and-set
 *   tallies/MANIFEST_ID/SEED_ID ephemeral: that seed's tally of the open stage
 *   vouches/MANIFEST_ID/SEED_ID ephemeral: that seed's agents silent while applying, and those of
 *                               the others' it hears from (ApplyingVouches; bounded)
 *   advisories/ADVISORY_ID      an imported advisory's JSON (ZkAdvisoryStore; bounded in size and count)
 * </pre>
 *
 * <p>Steering needs a live session: while the connection is suspended or the
 * session lost, {@link #connected()} is false and nothing is decided. A stale
 * leader cannot write either: decisions are a transaction that also checks
 * this seed's latch znode, which dies with its session.
 */
public final class SeedCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SeedCluster.class);
  public static final String ROOT = "/patchmesh";
  static final String FINGERPRINT = ROOT + "/cluster";
  static final String LEADER = ROOT + "/leader";
  static final String SEEDS = ROOT + "/seeds";
  static final String ROLLOUTS = ROOT + "/rollouts";
  static final String TALLIES = ROOT + "/tallies";
  static final String VOUCHES = ROOT + "/vouches";
  static final String ADVISORIES = ROOT + "/advisories";

  /** Joining failed: ZooKeeper unreachable, or this path belongs to another fleet. */
  public static final class JoinException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JoinException(String message) {
      super(message);
    }
  }

  private final ClusterConfig config;
  private final String seedId;
  private final Clock clock;
  private final CuratorFramework client;
  private final CuratorCache cache;
  private final LeaderLatch latch;
  private final PersistentNode registration;
  private volatile boolean connected = true;
  private volatile long disconnectedSince;
  private final AtomicLong leadershipChanges = new AtomicLong();
  private final AtomicLong sessionLosses = new AtomicLong();
  private final AtomicLong suspensions = new AtomicLong();
  private final AtomicLong writes = new AtomicLong();
  private final List<Runnable> onNewSession = new CopyOnWriteArrayList<>();

  private SeedCluster(ClusterConfig config, String seedId, Clock clock, CuratorFramework client, CuratorCache cache,
      LeaderLatch latch, PersistentNode registration) {
    this.config = config;
    this.seedId = seedId;
    this.clock = clock;
    this.client = client;
    this.cache = cache;
    this.latch = latch;
    this.registration = registration;
  }

  /**
   * Connects, checks that the cluster path belongs to this fleet (or claims it
   * for this fleet if it is new), registers this seed and enters the election.
   *
   * @param fingerprint names the fleet: hash of the trust root's root keys and the mesh CA
   * @param about what other seeds and `patchmesh status` show for this seed
   * @throws JoinException when ZooKeeper cannot be reached in time, or the path is another fleet's (nothing is written then)
   */
  public static SeedCluster join(ClusterConfig config, String seedId, String fingerprint, String about, Clock clock) {
    CuratorFramework client = CuratorFrameworkFactory.builder()
        // the chroot as Curator's namespace: Curator creates it, a ZooKeeper chroot must pre-exist
        .connectString(String.join(",", config.connect().hosts()))
        .namespace(config.connect().chroot().isEmpty() ? null : config.connect().chroot().substring(1))
        .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
        .connectionTimeoutMs((int) Math.min(config.sessionTimeout().toMillis(), 15_000))
        .retryPolicy(new ExponentialBackoffRetry(200, 10, 2_000))
        // talk to the servers the operator named, not to ones learned from the ensemble's config:
        // a seed given one server is cut off with it, never silently moved elsewhere
        .ensembleTracker(false)
        .build();
    client.start();
    try {
      if (config.waitForZooKeeper()) {
        log.info("waiting for ZooKeeper at {}", config.connect().text());
        client.blockUntilConnected();
      } else if (!client.blockUntilConnected((int) config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new JoinException("ZooKeeper at " + config.connect().text() + " is unreachable (waited "
            + config.connectTimeout().toSeconds() + " s; --zookeeper-wait waits for it)");
      }
      checkFingerprint(client, fingerprint, config.connect().text());
      client.createContainers(ROLLOUTS);
      client.createContainers(TALLIES);
      client.createContainers(VOUCHES);
      client.createContainers(SEEDS);
      client.createContainers(ADVISORIES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      client.close();
      throw new JoinException("interrupted while connecting to ZooKeeper");
    } catch (JoinException e) {
      client.close();
      throw e;
    } catch (Exception e) {
      client.close();
      throw new JoinException("ZooKeeper at " + config.connect().text() + ": " + e.getMessage());
    }
    CuratorCache cache = CuratorCache.build(client, ROOT);
    LeaderLatch latch = new LeaderLatch(client, LEADER, seedId);
    PersistentNode reg = new PersistentNode(client, CreateMode.EPHEMERAL, false, SEEDS + "/" + seedId,
        about.getBytes(StandardCharsets.UTF_8));
    SeedCluster c = new SeedCluster(config, seedId, clock, client, cache, latch, reg);
    c.start();
    return c;
  }

  private static void checkFingerprint(CuratorFramework client, String fingerprint, String where) throws Exception {
    byte[] mine = fingerprint.getBytes(StandardCharsets.UTF_8);
    try {
      client.create().creatingParentContainersIfNeeded().forPath(FINGERPRINT, mine);
      log.info("ZooKeeper {}: new seed cluster for fleet {}", where, fingerprint);
      return;
    } catch (KeeperException.NodeExistsException e) {
      // joined an existing cluster: it must be ours
    }
    String theirs = new String(client.getData().forPath(FINGERPRINT), StandardCharsets.UTF_8);
    if (!theirs.equals(fingerprint)) {
      throw new JoinException("ZooKeeper " + where + ROOT + " belongs to seeds of another trust root or mesh CA (fleet "
          + abbreviate(theirs) + ", this seed's is " + abbreviate(fingerprint) + "): refusing to join; use another chroot path");
    }
  }

  private static String abbreviate(String fp) {
    return fp.length() > 20 ? fp.substring(0, 20) + "..." : fp;
  }

  private void start() {
    client.getConnectionStateListenable().addListener((c, state) -> onState(state));
    latch.addListener(new LeaderLatchListener() {
      @Override
      public void isLeader() {
        leadershipChanges.incrementAndGet();
        log.info("seed {} leads the seed cluster: it steers rollouts", seedId.substring(0, 12));
      }

      @Override
      public void notLeader() {
        leadershipChanges.incrementAndGet();
        log.info("seed {} no longer leads the seed cluster", seedId.substring(0, 12));
      }
    });
    cache.start();
    registration.start();
    try {
      latch.start();
    } catch (Exception e) {
      throw new JoinException("ZooKeeper leader election: " + e.getMessage());
    }
  }

  private void onState(ConnectionState state) {
    switch (state) {
      case CONNECTED, RECONNECTED -> {
        if (!connected) {
          log.info("ZooKeeper session back: rollout decisions resume");
        }
        connected = true;
        onNewSession.forEach(Runnable::run);
      }
      case SUSPENDED -> {
        suspensions.incrementAndGet();
        markDisconnected("ZooKeeper connection suspended");
      }
      case LOST -> {
        sessionLosses.incrementAndGet();
        markDisconnected("ZooKeeper session lost");
      }
      default -> {}
    }
  }

  private void markDisconnected(String what) {
    if (connected) {
      disconnectedSince = clock.millis();
      log.warn("{}: this seed keeps serving manifests and chunks but steers no rollout until it is back", what);
    }
    connected = false;
  }

  /** Replaces what this seed's registration says about it (once its admin address is known). */
  public void describeSelf(String about) {
    try {
      registration.setData(about.getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      log.debug("updating registration: {}", e.toString());
    }
  }

  /** Runs {@code r} whenever a (re)connection happens: ephemeral znodes may need writing again. */
  void onNewSession(Runnable r) {
    onNewSession.add(r);
  }

  public boolean connected() {
    return connected && client.getZookeeperClient().isConnected();
  }

  /** Leads and has a live session: may steer. */
  public boolean leads() {
    return connected() && latch.hasLeadership();
  }

  /** Why this seed does not steer now; empty when it leads with a live session. */
  public Optional<String> notSteering() {
    if (!connected()) {
      return Optional.of(noSession());
    }
    if (!latch.hasLeadership()) {
      return Optional.of("following leader seed " + leader().map(l -> l.substring(0, Math.min(12, l.length()))).orElse("(electing)"));
    }
    return Optional.empty();
  }

  String noSession() {
    return "no ZooKeeper session since " + Instant.ofEpochMilli(disconnectedSince).toString().replaceAll("\\.\\d+Z$", "Z")
        + " (rollout decisions wait for it)";
  }

  /** The leader's seed id, from the cache (the latch participant with the lowest sequence). */
  public Optional<String> leader() {
    List<ChildData> latches = new ArrayList<>();
    cache.stream().filter(d -> d.getPath().startsWith(LEADER + "/")).forEach(latches::add);
    return latches.stream()
        .min(Comparator.comparing(d -> d.getPath().substring(d.getPath().lastIndexOf('-') + 1)))
        .map(d -> new String(d.getData(), StandardCharsets.UTF_8));
  }

  /** Live seeds (registered, with a session) by id, with what each says about itself. */
  public Map<String, String> seeds() {
    Map<String, String> out = new LinkedHashMap<>();
    cache.stream().filter(d -> d.getPath().startsWith(SEEDS + "/"))
        .sorted(Comparator.comparing(ChildData::getPath))
        .forEach(d -> out.put(d.getPath().substring(SEEDS.length() + 1), new String(d.getData(), StandardCharsets.UTF_8)));
    return out;
  }

  public String seedId() {
    return seedId;
  }

  public ClusterConfig config() {
    return config;
  }

  CuratorFramework client() {
    return client;
  }

  CuratorCache cache() {
    return cache;
  }

  /** Our latch znode: decisions check it in the same transaction (it dies with our session). */
  String latchPath() {
    return latch.getOurPath();
  }

  void wrote() {
    writes.incrementAndGet();
  }

  /** Writes this seed made to ZooKeeper (records, tallies). */
  public long writes() {
    return writes.get();
  }

  public long leadershipChanges() {
    return leadershipChanges.get();
  }

  public long sessionLosses() {
    return sessionLosses.get();
  }

  public long suspensions() {
    return suspensions.get();
  }

  /** "connected", "suspended" or "lost", as `patchmesh status` shows it. */
  public String sessionState() {
    if (connected()) {
      return "connected";
    }
    return client.getZookeeperClient().isConnected() ? "reconnecting" : "disconnected";
  }

  /**
   * Benchmarks only: dies like a killed process. The session is neither closed nor kept alive, so its
   * ephemeral znodes (registration, latch, tallies) stay until the ensemble expires it.
   */
  public void crashForBenchmark() {
    try {
      client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
    } catch (Exception e) {
      log.debug("crash: {}", e.toString());
    }
    cache.close();
    client.close();
  }

  @Override
  public void close() {
    if (client.getZookeeperClient().isConnected()) {
      try {
        latch.close();
      } catch (Exception e) {
        log.debug("closing leader latch: {}", e.toString());
      }
      try {
        registration.close();
      } catch (Exception e) {
        log.debug("closing registration: {}", e.toString());
      }
    } else {
      // deleting the latch and registration nodes would retry for ~25 s and hold up the stop; they
      // are ephemeral, so the ensemble removes them when this session expires
      log.info("ZooKeeper unreachable at stop: this seed's election and registration nodes go when its session expires");
    }
    cache.close();
    client.close();
  }
}
