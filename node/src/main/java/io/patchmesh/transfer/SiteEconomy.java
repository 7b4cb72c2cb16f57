package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides, for a chunk that no member of my site has, whether I may fetch it across the WAN now.
 *
 * <p>The rule (DESIGN.md "Site economy"): the live site member with the highest {@link Rendezvous}
 * score for the chunk, among the members that want the manifest, fetches it; everyone else waits
 * for it to appear on the LAN. That makes each chunk cross the site's link once and spreads the WAN
 * download evenly over the members, without a leader (see {@link Rendezvous} for why not a leader).
 *
 * <p>Takeover without restarting: a member that is alive but not delivering (WAN path broken, disk
 * full, wedged) would stall its share forever. So each member ranked above me gets a grace period
 * (the site-wait) per chunk: member {@code r0} is responsible from the moment the chunk is wanted
 * and absent; it is deemed stalled at {@code max(responsibleSince, progressClock(r0)) + grace},
 * where its progress clock is the last time it brought a new chunk into the site. From then the
 * next-ranked member is responsible, with its own grace, and so on down to me. A member that keeps
 * delivering something at least once per grace is busy, not stalled, so its queued chunks are not
 * duplicated; a member that stops delivering loses its chunks one rank down, each chunk to its own
 * next member, so the takeover is spread too. Dead or departed members are simply absent from
 * {@link #setMembers} and the next rank becomes the owner at once.
 *
 * <p>A member whose have-map I do not see (not connected to me) cannot be observed directly; its
 * progress clock is the site's (any chunk newly appearing in the site), which errs toward waiting
 * while the site's link is busy — the safe side for the WAN, and a death still shows up through
 * membership.
 *
 * <p>Cost: my rank per chunk is cached (O(chunks × members) mixes after each membership change,
 * ~20 ms for 64k × 300); the full ranking of a chunk is only computed when its owner looks stalled.
 * Single-threaded, owned by one {@link ChunkPicker}.
 */
final class SiteEconomy {
  private final NodeId self;
  private final ChunkTable table;

  /** Live members that want the manifest, me included. Insertion-ordered for determinism. */
  private final Map<NodeId, Member> members = new LinkedHashMap<>();
  /** Peers whose have-map I see (members or not yet), so a member added later starts observed. */
  private final Set<NodeId> observedPeers = new HashSet<>();
  private long siteProgressMillis;

  // Lazily rebuilt after membership changes.
  private boolean dirty = true;
  private Member[] memberArray = new Member[0];
  private int[] winner; // per chunk: index into memberArray
  private int[] myRank; // per chunk: how many members outrank me
  private BitSet owned = new BitSet(); // chunks whose rank is 0: mine to fetch from the start

  private static final class Member {
    final NodeId id;
    final long key;
    final long sinceMillis;
    long lastProgressMillis = Long.MIN_VALUE;
    /** I see its have-map, so its progress is observed rather than inferred from the site's. */
    boolean observed;

    Member(NodeId id, long sinceMillis) {
      this.id = id;
      this.key = Rendezvous.nodeKey(id);
      this.sinceMillis = sinceMillis;
    }
  }

  SiteEconomy(NodeId self, ChunkTable table, long nowMillis) {
    this.self = self;
    this.table = table;
    this.siteProgressMillis = nowMillis;
    members.put(self, new Member(self, nowMillis));
  }

  /** Replaces the set of live members that want this manifest (I am always one of them). */
  void setMembers(Set<NodeId> live, long nowMillis) {
    boolean changed = members.keySet().removeIf(id -> !id.equals(self) && !live.contains(id));
    for (NodeId id : live) {
      if (!members.containsKey(id)) {
        Member m = new Member(id, nowMillis);
        m.observed = observedPeers.contains(id);
        members.put(id, m);
        changed = true;
      }
    }
    dirty |= changed;
  }

  Set<NodeId> members() {
    return Set.copyOf(members.keySet());
  }

  /** Whether I see {@code member}'s have-map (so its progress is observed, not inferred). */
  void setObserved(NodeId member, boolean isObserved) {
    if (isObserved) {
      observedPeers.add(member);
    } else {
      observedPeers.remove(member);
    }
    Member m = members.get(member);
    if (m != null) {
      m.observed = isObserved;
    }
  }

  /** {@code member} announced a chunk that no one in the site had: it brought it across the WAN. */
  void onMemberProgress(NodeId member, long nowMillis) {
    Member m = members.get(member);
    if (m != null) {
      m.lastProgressMillis = Math.max(m.lastProgressMillis, nowMillis);
    }
    onSiteProgress(nowMillis);
  }

  /** Some chunk newly appeared in the site. */
  void onSiteProgress(long nowMillis) {
    siteProgressMillis = Math.max(siteProgressMillis, nowMillis);
  }

  /**
   * I could not observe anything for a while (my own process was starved or paused): the silence
   * of the others meanwhile is no evidence that they stalled, and their Haves may still be queued
   * behind the pause. Every member gets a fresh grace from now.
   */
  void excuseAll(long nowMillis) {
    for (Member m : members.values()) {
      m.lastProgressMillis = Math.max(m.lastProgressMillis, nowMillis);
    }
    siteProgressMillis = Math.max(siteProgressMillis, nowMillis);
  }

  /** 0 if I am the rendezvous owner of {@code chunk}, else how many live members outrank me. */
  int myRank(int chunk) {
    rebuildIfDirty();
    return myRank[chunk];
  }

  /**
   * True if I may fetch {@code chunk} (absent from the whole site since {@code absentSinceMillis})
   * across the WAN now: I am its owner, or every member ranked above me has had its grace and
   * stalled.
   */
  boolean mayFetchFromWan(int chunk, long absentSinceMillis, long graceMillis, long nowMillis) {
    rebuildIfDirty();
    if (myRank[chunk] == 0) {
      return true;
    }
    // Fast path: the owner is still within its grace, so nobody below it may start.
    Member owner = memberArray[winner[chunk]];
    if (nowMillis < Math.max(absentSinceMillis, progressClock(owner)) + graceMillis) {
      return false;
    }
    long responsibleSince = absentSinceMillis;
    for (Member m : rankedAboveMe(chunk)) {
      long stalledAt = Math.max(responsibleSince, progressClock(m)) + graceMillis;
      if (nowMillis < stalledAt) {
        return false;
      }
      responsibleSince = stalledAt;
    }
    return true;
  }

  /** The chunks I am the rendezvous owner of (rank 0); a live view, valid until members change. */
  BitSet owned() {
    rebuildIfDirty();
    return owned;
  }

  /**
   * Before this time no chunk I do not own can pass {@link #mayFetchFromWan}: every other member
   * is within its grace (its progress clock, or the chunk's absence if later, plus the grace), so
   * a pick may skip those chunks in one set operation instead of asking per chunk.
   */
  long takeoverPossibleFrom(long graceMillis) {
    long earliest = Long.MAX_VALUE;
    for (Member m : members.values()) {
      if (!m.id.equals(self)) {
        earliest = Math.min(earliest, progressClock(m));
      }
    }
    return earliest == Long.MAX_VALUE ? Long.MAX_VALUE : earliest + graceMillis;
  }

  private long progressClock(Member m) {
    long activity = m.observed ? m.lastProgressMillis : siteProgressMillis;
    return Math.max(m.sinceMillis, activity);
  }

  private List<Member> rankedAboveMe(int chunk) {
    long ck = table.rendezvousKey(chunk);
    Member me = members.get(self);
    long mine = Rendezvous.score(ck, me.key);
    List<Member> above = new ArrayList<>();
    for (Member m : memberArray) {
      if (Rendezvous.outranks(Rendezvous.score(ck, m.key), m.id, mine, self)) {
        above.add(m);
      }
    }
    above.sort(
        (a, b) -> {
          long sa = Rendezvous.score(ck, a.key);
          long sb = Rendezvous.score(ck, b.key);
          return Rendezvous.outranks(sa, a.id, sb, b.id) ? -1 : 1;
        });
    return above;
  }

  private void rebuildIfDirty() {
    if (!dirty) {
      return;
    }
    memberArray = members.values().toArray(new Member[0]);
    int n = table.count();
    winner = new int[n];
    myRank = new int[n];
    owned = new BitSet(n);
    long myKey = members.get(self).key;
    for (int c = 0; c < n; c++) {
      long ck = table.rendezvousKey(c);
      long mine = Rendezvous.score(ck, myKey);
      int best = -1;
      long bestScore = 0;
      int rank = 0;
      for (int i = 0; i < memberArray.length; i++) {
        Member m = memberArray[i];
        long s = Rendezvous.score(ck, m.key);
        if (best < 0 || Rendezvous.outranks(s, m.id, bestScore, memberArray[best].id)) {
          best = i;
          bestScore = s;
        }
        if (Rendezvous.outranks(s, m.id, mine, self)) {
          rank++;
        }
      }
      winner[c] = best;
      myRank[c] = rank;
      if (rank == 0) {
        owned.set(c);
      }
    }
    dirty = false;
  }
}
