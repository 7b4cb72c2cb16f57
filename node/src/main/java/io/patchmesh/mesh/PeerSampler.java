package io.patchmesh.mesh;

import java.util.List;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Picks random live members for gossip, indirect probes and push-pull: from the own site, except
 * a configured share from other sites (dense inside a site, sparse across). Falls back to the
 * other group when the chosen one has nobody eligible, so a lone node at a site still talks.
 * Only members this node can reach are picked ({@link Membership.Builder#reachable}).
 */
final class PeerSampler {
  /** Random draws before falling back to a scan; enough when most members are live. */
  private static final int DRAWS = 8;

  private final MemberTable table;
  private final RandomGenerator random;
  private final Predicate<MemberInfo> reachable;

  PeerSampler(MemberTable table, RandomGenerator random, Predicate<MemberInfo> reachable) {
    this.table = table;
    this.random = random;
    this.reachable = reachable;
  }

  /** A random eligible member not in {@code exclude}, or null if there is none. */
  MemberRecord pick(double crossSiteShare, List<MemberRecord> exclude, boolean aliveOnly) {
    boolean local = chooseLocal(crossSiteShare);
    MemberRecord r = pickIn(local, exclude, aliveOnly);
    return r != null ? r : pickIn(!local, exclude, aliveOnly);
  }

  /** True to pick from the own site this time. */
  boolean chooseLocal(double crossSiteShare) {
    if (table.groupSize(true) <= 1) {
      return false; // only self (or nobody) here
    }
    if (table.groupSize(false) == 0) {
      return true;
    }
    return random.nextDouble() >= crossSiteShare;
  }

  private MemberRecord pickIn(boolean local, List<MemberRecord> exclude, boolean aliveOnly) {
    int size = table.groupSize(local);
    if (size == 0) {
      return null;
    }
    for (int i = 0; i < DRAWS; i++) {
      MemberRecord r = table.groupAt(local, random.nextInt(size));
      if (acceptable(r, exclude, aliveOnly)) {
        return r;
      }
    }
    int start = random.nextInt(size);
    for (int i = 0; i < size; i++) {
      MemberRecord r = table.groupAt(local, (start + i) % size);
      if (acceptable(r, exclude, aliveOnly)) {
        return r;
      }
    }
    return null;
  }

  private boolean acceptable(MemberRecord r, List<MemberRecord> exclude, boolean aliveOnly) {
    if (!table.eligible(r) || (aliveOnly && r.status != MemberStatus.ALIVE) || !reachable.test(r.info)) {
      return false;
    }
    for (MemberRecord e : exclude) {
      if (e.info.id().equals(r.info.id())) {
        return false;
      }
    }
    return true;
  }
}
