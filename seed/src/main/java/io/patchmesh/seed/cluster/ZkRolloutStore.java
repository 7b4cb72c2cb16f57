package io.patchmesh.seed.cluster;

import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rollout records and tallies in ZooKeeper, shared by every seed of a {@link
 * SeedCluster}. Reads come from the cluster's cache; every write of a record
 * is conditional on the znode version the writer read, and the leader's
 * decisions also on its own latch znode, so a decision made from an outdated
 * view, or by a seed that lost its session, fails instead of landing.
 *
 * <p>Tallies: each seed writes its own per rollout as an ephemeral znode, only
 * when it changed and at most once per {@link ClusterConfig#tallyInterval()};
 * the leader adds up the tallies of the live seeds (those registered now) for
 * the open stage, and decides nothing while one of them has not yet tallied it.
 * Beside each tally, each seed writes its {@link ApplyingVouches} (ephemeral, written the same way).
 */
public final class ZkRolloutStore implements RolloutStore {
  private static final Logger log = LoggerFactory.getLogger(ZkRolloutStore.class);

  private final SeedCluster cluster;
  private final long tallyIntervalMillis;
  private final Map<ManifestId, byte[]> publishedTally = new ConcurrentHashMap<>();
  private final Map<ManifestId, Long> publishedAt = new ConcurrentHashMap<>();
  private final Map<ManifestId, byte[]> publishedVouches = new ConcurrentHashMap<>();
  private final Map<ManifestId, Long> vouchesAt = new ConcurrentHashMap<>();
  /** Seeds whose unreadable vouches were logged (once each). */
  private final Set<String> unreadableVouches = ConcurrentHashMap.newKeySet();

  public ZkRolloutStore(SeedCluster cluster) {
    this.cluster = cluster;
    this.tallyIntervalMillis = cluster.config().tallyInterval().toMillis();
    cluster.onNewSession(() -> { // a new session lost our ephemeral tallies and vouches: write them again
      publishedTally.clear();
      publishedVouches.clear();
    });
  }

  private static String recordPath(ManifestId id) {
    return SeedCluster.ROLLOUTS + "/" + id.hex();
  }

  private String tallyPath(ManifestId id, String seed) {
    return SeedCluster.TALLIES + "/" + id.hex() + "/" + seed;
  }

  private String vouchPath(ManifestId id, String seed) {
    return SeedCluster.VOUCHES + "/" + id.hex() + "/" + seed;
  }

  @Override
  public Optional<RolloutRecord> read(ManifestId id) {
    return cluster.cache().get(recordPath(id)).map(ZkRolloutStore::decode);
  }

  private static RolloutRecord decode(ChildData d) {
    return RolloutRecord.decode(d.getData(), d.getStat().getVersion());
  }

  @Override
  public Optional<RolloutRecord> createIfAbsent(ManifestId id, RolloutRecord initial) {
    Optional<RolloutRecord> cached = read(id);
    if (cached.isPresent() || !cluster.connected()) {
      return cached;
    }
    try {
      cluster.client().create().forPath(recordPath(id), initial.bytes());
      cluster.wrote();
      return Optional.of(initial.withVersion(0));
    } catch (KeeperException.NodeExistsException e) {
      return fresh(id);
    } catch (Exception e) {
      log.debug("creating rollout record {}: {}", id.shortHex(), e.toString());
      return Optional.empty();
    }
  }

  @Override
  public Optional<RolloutRecord> readFresh(ManifestId id) {
    return fresh(id);
  }

  /** Reads the record from ZooKeeper itself (the cache may not have it yet). */
  private Optional<RolloutRecord> fresh(ManifestId id) {
    try {
      org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
      byte[] data = cluster.client().getData().storingStatIn(stat).forPath(recordPath(id));
      return Optional.of(RolloutRecord.decode(data, stat.getVersion()));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  @Override
  public Optional<RolloutRecord> decide(ManifestId id, RolloutRecord expected, RolloutRecord next) {
    if (!cluster.leads()) {
      return Optional.empty();
    }
    try {
      cluster.client().transaction().forOperations(
          cluster.client().transactionOp().check().forPath(cluster.latchPath()),
          cluster.client().transactionOp().setData().withVersion(expected.version()).forPath(recordPath(id), next.bytes()));
      cluster.wrote();
      return Optional.of(next.withVersion(expected.version() + 1));
    } catch (KeeperException.BadVersionException e) {
      log.debug("rollout {}: the record changed since it was read; judging again", id.shortHex());
      return Optional.empty();
    } catch (Exception e) {
      log.info("rollout {}: decision not written ({}); judging again from ZooKeeper's state", id.shortHex(), e.toString());
      return Optional.empty();
    }
  }

  @Override
  public Optional<RolloutRecord> command(ManifestId id, RolloutRecord expected, RolloutRecord next) {
    if (!cluster.connected()) {
      throw new NotSteeringException(cluster.noSession());
    }
    try {
      cluster.client().setData().withVersion(expected.version()).forPath(recordPath(id), next.bytes());
      cluster.wrote();
      return Optional.of(next.withVersion(expected.version() + 1));
    } catch (KeeperException.BadVersionException e) {
      return Optional.empty();
    } catch (Exception e) {
      throw new NotSteeringException("ZooKeeper: " + e.getMessage());
    }
  }

  @Override
  public void publishTally(ManifestId id, StageTally own) {
    publish(id, tallyPath(id, cluster.seedId()), own.bytes(), publishedTally, publishedAt, "tally");
  }

  /**
   * Writes one of our ephemeral znodes of a rollout: only when it changed, at most once per tally
   * interval. Ephemeral: a new session (ZooKeeper lost and back) has dropped it, and the leader
   * waits for every live seed's tally, so it is written again at once whether it changed or not.
   */
  private void publish(ManifestId id, String path, byte[] data, Map<ManifestId, byte[]> lastData, Map<ManifestId, Long> lastAt,
      String what) {
    if (!cluster.connected()) {
      return;
    }
    byte[] last = lastData.get(id);
    long now = System.nanoTime() / 1_000_000;
    boolean present = cluster.cache().get(path).isPresent();
    if (present && last != null && (Arrays.equals(last, data) || now - lastAt.getOrDefault(id, 0L) < tallyIntervalMillis)) {
      return;
    }
    try {
      cluster.client().create().orSetData().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
          .forPath(path, data);
      cluster.wrote();
      lastData.put(id, data);
      lastAt.put(id, now);
    } catch (Exception e) {
      log.debug("publishing {} of {}: {}", what, id.shortHex(), e.toString());
    }
  }

  /**
   * Our agents silent while applying and those of the others' we hear from, beside our tally and
   * written like it; nothing is written while there is nothing to say and never was.
   */
  @Override
  public void publishVouches(ManifestId id, ApplyingVouches mine) {
    String path = vouchPath(id, cluster.seedId());
    if (mine.equals(ApplyingVouches.NONE) && !publishedVouches.containsKey(id) && cluster.cache().get(path).isEmpty()) {
      return;
    }
    publish(id, path, mine.bytes(), publishedVouches, vouchesAt, "vouches");
  }

  /**
   * The other live seeds' entries. Missing (an older seed, or nothing to say yet): left out. An
   * unreadable one is left out too (it vouches for nobody: the agents it would vouch for count as
   * failed, the rule without vouching), logged once until that seed writes a readable one.
   */
  @Override
  public List<ApplyingVouches> othersVouches(ManifestId id) {
    List<ApplyingVouches> out = new ArrayList<>();
    for (String seed : cluster.seeds().keySet()) {
      if (seed.equals(cluster.seedId())) {
        continue;
      }
      Optional<ChildData> d = cluster.cache().get(vouchPath(id, seed));
      if (d.isEmpty()) {
        continue;
      }
      try {
        out.add(ApplyingVouches.parse(d.get().getData()));
        unreadableVouches.remove(seed);
      } catch (IllegalArgumentException e) {
        if (unreadableVouches.size() > 64) {
          unreadableVouches.clear(); // seeds come and go: the set stays small
        }
        if (unreadableVouches.add(seed)) {
          log.warn("seed {} published unreadable vouches of {} (taken as vouching for nobody): {}", seed, id.shortHex(),
              e.getMessage());
        }
      }
    }
    return out;
  }

  @Override
  public Optional<StageTally> clusterTally(ManifestId id, StageTally own) {
    StageTally sum = own;
    for (String seed : cluster.seeds().keySet()) {
      if (seed.equals(cluster.seedId())) {
        continue;
      }
      Optional<ChildData> d = cluster.cache().get(tallyPath(id, seed));
      if (d.isEmpty()) {
        return Optional.empty();
      }
      StageTally theirs;
      try {
        theirs = StageTally.parse(d.get().getData());
      } catch (IllegalArgumentException e) {
        log.warn("seed {} published an unreadable tally of {}: {}", seed, id.shortHex(), e.getMessage());
        return Optional.empty();
      }
      if (theirs.stage() != own.stage()) {
        return Optional.empty();
      }
      sum = sum.plus(theirs);
    }
    return Optional.of(sum);
  }

  @Override
  public Optional<String> notSteering() {
    return cluster.notSteering();
  }

  @Override
  public Optional<String> notCommandable() {
    return cluster.connected() ? Optional.empty() : Optional.of(cluster.noSession());
  }

  @Override
  public void close() {
    cluster.close();
  }
}
