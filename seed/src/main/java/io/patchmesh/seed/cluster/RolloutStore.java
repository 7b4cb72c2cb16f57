package io.patchmesh.seed.cluster;

import io.patchmesh.trust.ManifestId;
import java.util.List;
import java.util.Optional;

/**
 * Where a seed keeps the records that steer rollouts ({@link RolloutRecord})
 * and how it learns what other seeds know. Two implementations: {@link
 * LocalRolloutStore} (one seed, its own store; what a seed without
 * {@code --zookeeper} uses) and {@link ZkRolloutStore} (a cluster of seeds
 * sharing one ZooKeeper path).
 *
 * <p>Every write is a compare-and-set on the record's {@link
 * RolloutRecord#version()}: a write based on an outdated read fails and the
 * caller reads again, so two seeds (or the controller and an operator) never
 * overwrite each other's decision, and a stage is opened at most once.
 */
public interface RolloutStore extends AutoCloseable {
  /** The stored record, if any. May be the last one seen when the store is unreachable. */
  Optional<RolloutRecord> read(ManifestId id);

  /** The stored record read from the store itself, not a cache (after a lost compare-and-set). */
  default Optional<RolloutRecord> readFresh(ManifestId id) {
    return read(id);
  }

  /**
   * Stores the initial record if there is none and returns what is stored
   * now; empty if the store cannot be written at the moment.
   */
  Optional<RolloutRecord> createIfAbsent(ManifestId id, RolloutRecord initial);

  /**
   * The controller's decision: replaces {@code expected} with {@code next}
   * only if the stored record still has {@code expected}'s version and this
   * seed still steers (in a cluster: it leads, with a live session). Returns
   * the stored record on success.
   */
  Optional<RolloutRecord> decide(ManifestId id, RolloutRecord expected, RolloutRecord next);

  /**
   * An operator's command: like {@link #decide}, but any seed may write it
   * (it still needs a live session in a cluster).
   *
   * @throws NotSteeringException when the store cannot take writes now
   */
  Optional<RolloutRecord> command(ManifestId id, RolloutRecord expected, RolloutRecord next);

  /** Shares this seed's own tally of a rollout's stage (a cluster store writes it rate-limited). */
  void publishTally(ManifestId id, StageTally own);

  /**
   * The tally the leader decides from: this seed's own plus every other live
   * seed's for the same stage. Empty while some live seed has not yet
   * published a tally for this stage (a decision then waits).
   */
  Optional<StageTally> clusterTally(ManifestId id, StageTally own);

  /**
   * Shares what this seed says about agents silent while applying ({@link ApplyingVouches}); a
   * cluster store writes it beside the tally, rate-limited like it. Alone: nothing to share.
   */
  default void publishVouches(ManifestId id, ApplyingVouches mine) {}

  /**
   * What the other live seeds said about agents silent while applying; a seed that said nothing
   * (an older seed, or not yet) or something unreadable is left out: it vouches for nobody.
   */
  default List<ApplyingVouches> othersVouches(ManifestId id) {
    return List.of();
  }

  /** Why this seed may not make controller decisions now; empty when it may. */
  Optional<String> notSteering();

  /** Why operator commands cannot be taken now; empty when they can. */
  Optional<String> notCommandable();

  @Override
  void close();

  /** A write was refused because the store cannot take writes now; the message says why. */
  final class NotSteeringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotSteeringException(String why) {
      super(why);
    }
  }
}
