package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What manifest sync will not fetch again: ids written off (the signed manifest itself was
 * refused: rollback, expiry, limits), and per id the sources that failed to deliver a good copy
 * (stalled, trickled, malformed, wrong bytes, badly signed), so the next announcer is asked
 * instead. Copies refused for their signatures count against the source, and against the id only
 * once {@value #BADLY_SIGNED_SOURCES} sources served such copies: one peer that strips or forges
 * the signatures of a genuine manifest cannot make us write it off. A source that stalled or
 * trickled is not asked for that id for {@value #SLOW_HOLD_MILLIS} ms only ({@link #slowFrom}).
 * Bounded, oldest forgotten. Loop only; fed the time.
 */
final class ManifestRejections {
  /** Ids remembered as refused. */
  static final int REJECTED_MEMORY = 4096;
  /** Ids whose failed sources are remembered, and sources per id. */
  static final int FAILED_IDS = 1024;
  static final int FAILED_SOURCES_PER_ID = 16;
  /** Distinct sources whose copies of one id must fail for their signatures before the id is written off. */
  static final int BADLY_SIGNED_SOURCES = 3;
  /** How long a source that stalled or trickled on an id is not asked for it again. */
  static final long SLOW_HOLD_MILLIS = 60_000;

  private final Map<ManifestId, Boolean> rejected = bounded(REJECTED_MEMORY);
  private final Map<ManifestId, Set<NodeId>> failedFrom = bounded(FAILED_IDS);
  private final Map<ManifestId, Integer> badlySigned = bounded(FAILED_IDS);
  private final Map<ManifestId, Map<NodeId, Long>> slowUntil = bounded(FAILED_IDS);

  private static <K, V> Map<K, V> bounded(int max) {
    return new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> e) {
        return size() > max;
      }
    };
  }

  boolean rejected(ManifestId id) {
    return rejected.containsKey(id);
  }

  /** The manifest itself was refused: not fetched again from anyone. */
  void reject(ManifestId id) {
    rejected.put(id, Boolean.TRUE);
  }

  /**
   * True if {@code from} failed to deliver a good copy of {@code id} before, or stalled or trickled
   * on it less than {@value #SLOW_HOLD_MILLIS} ms before {@code now}.
   */
  boolean failed(ManifestId id, NodeId from, long now) {
    Set<NodeId> s = failedFrom.get(id);
    if (s != null && s.contains(from)) {
      return true;
    }
    Map<NodeId, Long> slow = slowUntil.get(id);
    Long until = slow == null ? null : slow.get(from);
    return until != null && now < until;
  }

  /**
   * {@code from} stalled or trickled serving {@code id} at {@code now}: not asked for it again for
   * {@value #SLOW_HOLD_MILLIS} ms, then it may be. Slowness is what an overloaded honest source
   * does, unlike a bad copy: written off for good, a seed that was the only holder of a new
   * manifest while its agents were starved of CPU was never asked again by any of them, and the
   * rollout stopped at 0 % (scripts/bench scale, 100 agents on 2 cores; BENCHMARKS section 12.9).
   */
  void slowFrom(ManifestId id, NodeId from, long now) {
    Map<NodeId, Long> slow = slowUntil.computeIfAbsent(id, k -> new HashMap<>());
    if (slow.size() < FAILED_SOURCES_PER_ID || slow.containsKey(from)) {
      slow.put(from, now + SLOW_HOLD_MILLIS);
    }
  }

  /** {@code from} failed to deliver a good copy of {@code id}: it is not asked for it again. */
  void failedFrom(ManifestId id, NodeId from) {
    Set<NodeId> s = failedFrom.computeIfAbsent(id, k -> new HashSet<>());
    if (s.size() < FAILED_SOURCES_PER_ID) {
      s.add(from);
    }
  }

  /** {@code from}'s copy of {@code id} was refused for its signatures. */
  void badlySigned(ManifestId id, NodeId from) {
    failedFrom(id, from);
    if (badlySigned.merge(id, 1, Integer::sum) >= BADLY_SIGNED_SOURCES) {
      reject(id);
    }
  }
}
