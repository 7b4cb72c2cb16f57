package io.patchmesh.mesh;

import java.util.List;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Picks random live members for gossip, indirect probes and push-pull: from the own site, except
 * a configured share from other sites (dense inside a site, sparse across). Falls back to the
 * other group when the chosen one has nobody eligible, so a lone node at a site still talks.
 *
 * <p>A pick in other sites chooses the site first (uniformly over the other sites), then a member
 * in it: every site then gets the same share of the fleet's cross-site gossip, about what one
 * site sends across ({@code crossSiteShare} of its members' gossip), whatever its size. Picked
 * uniformly over members instead, a member alone in its site (a seed in a data centre) got one
 * share in N of it and heard other sites' news late.
 * Only members this node can reach are picked ({@link MembershipBuilder#reachable}).
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

  /** Picks before {@link #pickLinkedFirst} settles for a member without a link. */
  static final int LINKED_TRIES = 4;

  /**
   * As {@link #pick}, but a member this node holds a link to first: up to {@value #LINKED_TRIES} picks,
   * the first linked one, else the first pick. A frame to a member without a link makes the driver dial
   * it (two TLS handshakes at both ends), and a PingReq to a helper that must be dialled first arrives
   * after the handshakes, too late for the probe on a starved machine (BENCHMARKS 12.32). Links are kept
   * once made, so in a settled mesh every member is linked and the pick is {@link #pick}'s. (Gossip
   * keeps {@link #pick}: linked first slowed a death's news to members outside the linked ones.)
   */
  MemberRecord pickLinkedFirst(double crossSiteShare, List<MemberRecord> exclude, boolean aliveOnly,
      Predicate<io.patchmesh.net.NodeId> linked) {
    MemberRecord first = null;
    for (int i = 0; i < LINKED_TRIES; i++) {
      MemberRecord r = pick(crossSiteShare, exclude, aliveOnly);
      if (r == null || linked.test(r.info.id())) {
        return r != null ? r : first;
      }
      if (first == null) {
        first = r;
      }
    }
    return first;
  }

  /** True to pick from the own site this time. */
  boolean chooseLocal(double crossSiteShare) {
    if (table.siteMates() == 0) {
      return false; // nobody else here
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
    if (!local) {
      MemberRecord r = pickBySite(exclude, aliveOnly);
      if (r != null) {
        return r;
      }
    }
    for (int i = 0; local && i < DRAWS; i++) {
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

  /** A random other site, then a random member in it; null after {@value #DRAWS} misses. */
  private MemberRecord pickBySite(List<MemberRecord> exclude, boolean aliveOnly) {
    int sites = table.remoteSiteCount();
    if (sites == 0) {
      return null;
    }
    for (int i = 0; i < DRAWS; i++) {
      int s = random.nextInt(sites);
      MemberRecord r = table.remoteSiteAt(s, random.nextInt(table.remoteSiteSize(s)));
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
