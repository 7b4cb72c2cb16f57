package io.patchmesh.mesh;

import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Chooses whom to probe next: round-robin over a fresh random order each round (SWIM's
 * improvement over random picks: every member is probed once per round, which bounds the time to
 * first detection), with one round per group — own site and other sites — and a configured share
 * of probes taken from the other-sites round.
 *
 * <p>The random order is the permutation {@code i -> (a·i + b) mod n} with random {@code a}
 * coprime to {@code n}: a shuffle in O(1) memory, so 10,000 simulated nodes do not each hold a
 * shuffled copy of 10,000 members.
 *
 * <p>A suspect comes first ({@link #checkSoon}): a member this node began to suspect on another's
 * word, or by its own failed probe, is probed next, so this node's own evidence (its probe and its
 * helpers' Nacks: {@link SwimProber}) confirms or clears the suspicion within an interval instead
 * of a round. Without it a member that hears little gossip (alone in its site, as a seed often is)
 * waited for confirmations that rarely came and let its suspicion run the full maximum.
 *
 * <p>A member this node cannot reach ({@link MembershipBuilder#reachable}) is not probed: the
 * probe could only fail, and its suspicion would be ours alone to spread.
 */
final class ProbeScheduler {
  private final MemberTable table;
  private final RandomGenerator random;
  private final PeerSampler sampler;
  private final double crossSiteShare;
  private final Predicate<MemberInfo> reachable;
  private final Round local = new Round(true);
  private final Round remote = new Round(false);
  /** Suspects to probe before the rounds go on (bounded: a flood of suspicions only reorders). */
  private final java.util.ArrayDeque<io.patchmesh.net.NodeId> soon = new java.util.ArrayDeque<>();
  static final int MAX_SOON = 8;

  ProbeScheduler(MemberTable table, RandomGenerator random, PeerSampler sampler, double crossSiteShare,
      Predicate<MemberInfo> reachable) {
    this.table = table;
    this.reachable = reachable;
    this.random = random;
    this.sampler = sampler;
    this.crossSiteShare = crossSiteShare;
  }

  /** Probe {@code id} next (after the suspects already waiting); ignored beyond {@value #MAX_SOON}. */
  void checkSoon(io.patchmesh.net.NodeId id) {
    if (soon.size() < MAX_SOON && !soon.contains(id)) {
      soon.addLast(id);
    }
  }

  /** The next live member to probe, or null if there is none. */
  MemberRecord next() {
    for (io.patchmesh.net.NodeId id = soon.pollFirst(); id != null; id = soon.pollFirst()) {
      MemberRecord r = table.find(id);
      if (r != null && r.status == MemberStatus.SUSPECT && table.eligible(r) && reachable.test(r.info)) {
        return r;
      }
    }
    boolean useLocal = sampler.chooseLocal(crossSiteShare);
    MemberRecord r = (useLocal ? local : remote).next();
    return r != null ? r : (useLocal ? remote : local).next();
  }

  private final class Round {
    private final boolean isLocal;
    private long size;
    private long a;
    private long b;
    private long i;

    Round(boolean isLocal) {
      this.isLocal = isLocal;
    }

    MemberRecord next() {
      // At most one full round plus the start of the next looking for someone eligible.
      long tries = 2L * Math.max(1, table.groupSize(isLocal));
      for (long t = 0; t < tries; t++) {
        if (i >= size) {
          restart();
          if (size == 0) {
            return null;
          }
        }
        int index = (int) ((a * i + b) % size);
        i++;
        MemberRecord r = table.groupAt(isLocal, index);
        if (table.eligible(r) && reachable.test(r.info)) {
          return r;
        }
      }
      return null;
    }

    private void restart() {
      size = table.groupSize(isLocal);
      i = 0;
      if (size == 0) {
        return;
      }
      b = random.nextLong(size);
      do {
        a = 1 + random.nextLong(Math.max(1, size - 1));
      } while (gcd(a, size) != 1);
    }
  }

  private static long gcd(long x, long y) {
    while (y != 0) {
      long t = x % y;
      x = y;
      y = t;
    }
    return x;
  }
}
