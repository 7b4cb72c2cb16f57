package io.patchmesh.seed.cluster;

import io.patchmesh.store.StateStore;
import io.patchmesh.trust.ManifestId;
import java.util.Optional;

/**
 * One seed on its own: records live in the seed's RocksDB state under
 * {@code rollout:<id>} (the format seeds have always written), the seed's own
 * tally is the whole tally, and it always steers. Versions are kept in memory
 * and only guard against a caller's outdated read within this process.
 */
public final class LocalRolloutStore implements RolloutStore {
  private final StateStore state;

  public LocalRolloutStore(StateStore state) {
    this.state = state;
  }

  private static String key(ManifestId id) {
    return "rollout:" + id.hex();
  }

  @Override
  public synchronized Optional<RolloutRecord> read(ManifestId id) {
    String saved = state.getString(key(id));
    if (saved == null) {
      return Optional.empty();
    }
    String[] v = saved.split("\n", 2);
    // older seeds wrote no version line
    return v.length == 2 ? Optional.of(RolloutRecord.decode(v[1], Integer.parseInt(v[0])))
        : Optional.of(RolloutRecord.decode(saved, 0));
  }

  @Override
  public synchronized Optional<RolloutRecord> createIfAbsent(ManifestId id, RolloutRecord initial) {
    Optional<RolloutRecord> cur = read(id);
    if (cur.isPresent()) {
      return cur;
    }
    return Optional.of(write(id, initial.withVersion(0)));
  }

  @Override
  public synchronized Optional<RolloutRecord> decide(ManifestId id, RolloutRecord expected, RolloutRecord next) {
    Optional<RolloutRecord> cur = read(id);
    if (cur.isPresent() && cur.get().version() != expected.version()) {
      return Optional.empty();
    }
    return Optional.of(write(id, next.withVersion(expected.version() + 1)));
  }

  @Override
  public Optional<RolloutRecord> command(ManifestId id, RolloutRecord expected, RolloutRecord next) {
    return decide(id, expected, next);
  }

  private RolloutRecord write(ManifestId id, RolloutRecord r) {
    state.putString(key(id), r.version() + "\n" + r.encode(), true);
    return r;
  }

  @Override
  public void publishTally(ManifestId id, StageTally own) {}

  @Override
  public Optional<StageTally> clusterTally(ManifestId id, StageTally own) {
    return Optional.of(own);
  }

  @Override
  public Optional<String> notSteering() {
    return Optional.empty();
  }

  @Override
  public Optional<String> notCommandable() {
    return Optional.empty();
  }

  @Override
  public void close() {}
}
