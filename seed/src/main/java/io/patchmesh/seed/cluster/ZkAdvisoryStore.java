package io.patchmesh.seed.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.seed.exposure.Advisory;
import io.patchmesh.seed.exposure.AdvisoryStore;
import io.patchmesh.seed.exposure.LocalAdvisoryStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imported advisories in the seed cluster's shared state: one persistent znode per advisory under
 * {@link SeedCluster#ADVISORIES}, named by the advisory's id (OsvParser allows only
 * {@code [A-Za-z0-9][A-Za-z0-9._:+-]*}, all legal in a znode name), holding its JSON. An import
 * through any seed is matched by every seed.
 *
 * <p>Bounded, because ZooKeeper keeps its whole tree in memory on every server and every seed
 * caches it: at most {@link #MAX_ADVISORY_BYTES} per advisory, {@link #MAX_ADVISORIES} advisories
 * and {@link #MAX_TOTAL_BYTES} in all; an import that would pass a bound is refused whole before
 * anything is written. Writes go in transactions of at most {@link #MAX_TXN_BYTES} (ZooKeeper
 * refuses requests over its 1 MB jute.maxbuffer) and need a live session.
 *
 * <p>Reads come from the decoded copy this class keeps up to date from the cluster's cache (so an
 * exposure query does not parse JSON), plus what this seed just wrote.
 */
public final class ZkAdvisoryStore implements AdvisoryStore {
  private static final Logger log = LoggerFactory.getLogger(ZkAdvisoryStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** An advisory's JSON; OSV entries with long version lists are the large ones (a few KiB typically). */
  public static final int MAX_ADVISORY_BYTES = 128 * 1024;
  /** Advisories the cluster keeps: the same as one seed's own store. */
  public static final int MAX_ADVISORIES = LocalAdvisoryStore.MAX_ADVISORIES;
  /** All advisories' JSON together: what each ZooKeeper server and each seed holds in memory for them. */
  public static final long MAX_TOTAL_BYTES = 128L * 1024 * 1024;
  static final int MAX_TXN_BYTES = 512 * 1024;
  static final int MAX_TXN_OPS = 500;

  private record Held(Advisory advisory, int bytes) {}

  private final SeedCluster cluster;
  private final Map<String, Held> byId = new ConcurrentHashMap<>();

  public ZkAdvisoryStore(SeedCluster cluster) {
    this.cluster = cluster;
    cluster.cache().listenable().addListener(CuratorCacheListener.builder()
        .forCreatesAndChanges((before, after) -> onData(after))
        .forInitialized(() -> cluster.cache().stream().forEach(this::onData))
        .build());
    cluster.cache().stream().forEach(this::onData); // what the cache held before the listener was added
  }

  private static String path(String id) {
    return SeedCluster.ADVISORIES + "/" + id;
  }

  private void onData(ChildData d) {
    String p = d.getPath();
    if (!p.startsWith(SeedCluster.ADVISORIES + "/") || d.getData() == null) {
      return;
    }
    String id = p.substring(SeedCluster.ADVISORIES.length() + 1);
    if (d.getData().length > MAX_ADVISORY_BYTES) {
      log.warn("advisory znode {} holds {} bytes, over the limit of {}: ignored", p, d.getData().length, MAX_ADVISORY_BYTES);
      return;
    }
    try {
      Advisory a = JSON.readValue(d.getData(), Advisory.class);
      if (!a.id().equals(id)) {
        log.warn("advisory znode {} holds advisory {}: ignored", p, a.id());
        return;
      }
      byId.put(id, new Held(a, d.getData().length));
    } catch (IOException e) {
      log.warn("advisory znode {} does not parse: {}", p, e.getMessage());
    }
  }

  @Override
  public synchronized void putAll(List<Advisory> advisories) {
    if (!cluster.connected()) {
      throw new UnavailableException(cluster.noSession());
    }
    Map<String, byte[]> batch = new LinkedHashMap<>();
    for (Advisory a : advisories) {
      if (!a.id().matches("[A-Za-z0-9][A-Za-z0-9._:+-]*")) {
        throw new IllegalArgumentException("advisory id " + a.id() + " cannot name a znode");
      }
      byte[] data;
      try {
        data = JSON.writeValueAsBytes(a);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      if (data.length > MAX_ADVISORY_BYTES) {
        throw new IllegalArgumentException("advisory " + a.id() + " is " + data.length
            + " bytes as stored; the seed cluster keeps at most " + MAX_ADVISORY_BYTES + " per advisory");
      }
      batch.put(a.id(), data);
    }
    checkBounds(batch);
    List<String> ids = new ArrayList<>(batch.keySet());
    int from = 0;
    while (from < ids.size()) {
      int to = from;
      int bytes = 0;
      while (to < ids.size() && to - from < MAX_TXN_OPS && (to == from || bytes + batch.get(ids.get(to)).length <= MAX_TXN_BYTES)) {
        bytes += batch.get(ids.get(to)).length;
        to++;
      }
      write(ids.subList(from, to), batch);
      from = to;
    }
  }

  private void checkBounds(Map<String, byte[]> batch) {
    Map<String, Integer> sizes = new HashMap<>();
    byId.forEach((id, h) -> sizes.put(id, h.bytes()));
    batch.forEach((id, data) -> sizes.put(id, data.length));
    long total = sizes.values().stream().mapToLong(Integer::longValue).sum();
    if (sizes.size() > MAX_ADVISORIES) {
      throw new IllegalArgumentException("the seed cluster holds " + byId.size() + " advisories; this import would pass the limit of "
          + MAX_ADVISORIES);
    }
    if (total > MAX_TOTAL_BYTES) {
      throw new IllegalArgumentException("advisories would take " + total + " bytes in ZooKeeper; the seed cluster keeps at most "
          + MAX_TOTAL_BYTES);
    }
  }

  /** One transaction; if another seed created or removed one of them meanwhile, one write each. */
  private void write(List<String> ids, Map<String, byte[]> batch) {
    try {
      List<CuratorOp> ops = new ArrayList<>();
      for (String id : ids) {
        ops.add(byId.containsKey(id)
            ? cluster.client().transactionOp().setData().forPath(path(id), batch.get(id))
            : cluster.client().transactionOp().create().forPath(path(id), batch.get(id)));
      }
      cluster.client().transaction().forOperations(ops);
      cluster.wrote();
    } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
      for (String id : ids) {
        try {
          cluster.client().create().orSetData().forPath(path(id), batch.get(id));
          cluster.wrote();
        } catch (Exception x) {
          throw new UnavailableException("ZooKeeper: " + x.getMessage());
        }
      }
    } catch (Exception e) {
      throw new UnavailableException("ZooKeeper: " + e.getMessage());
    }
    for (String id : ids) {
      try {
        byId.put(id, new Held(JSON.readValue(batch.get(id), Advisory.class), batch.get(id).length));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Override
  public List<Advisory> all() {
    List<Advisory> out = new ArrayList<>();
    byId.values().forEach(h -> out.add(h.advisory()));
    out.sort(Comparator.comparing(Advisory::id));
    return out;
  }

  @Override
  public int size() {
    return byId.size();
  }
}
