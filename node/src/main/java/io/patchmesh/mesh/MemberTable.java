package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.function.Consumer;

/**
 * All members this node knows, except itself: a shared {@link Roster} overlaid with the records
 * this node changed, plus members learned at runtime. Members are split into two groups — the own
 * site ({@code local}) and all others — because probes and gossip pick from them at different
 * rates.
 *
 * <p>Invariant: a roster member has a record in {@code overrides} once anything about it changed
 * here; until then its shared base record (alive, incarnation 0) stands. Every change goes
 * through {@link #writable} so shared records are never mutated.
 */
final class MemberTable {
  private final NodeId self;
  private final ByteString selfKey;
  private final String selfSite;
  private final boolean selfInRoster;
  private final Roster roster;
  private final int localStart;
  private final int localEnd;
  /** Roster overrides and all runtime-learned members, by id. */
  private final HashMap<ByteString, MemberRecord> records = new HashMap<>();
  private final ArrayList<MemberRecord> learnedLocal = new ArrayList<>();
  private final ArrayList<MemberRecord> learnedRemote = new ArrayList<>();
  /** Other sites' members by site, for picks that choose the site first. */
  private final RemoteSites remoteSites;
  /** Alive + suspect members, self excluded. */
  private int live;
  /** Bumped by every change a {@link Member} snapshot shows (added, removed, status, incarnation, info). */
  private long version;

  MemberTable(NodeId self, String selfSite, Roster roster) {
    this.self = self;
    this.selfKey = self.toByteString();
    this.selfSite = selfSite;
    this.roster = roster;
    int[] range = roster.siteRange(selfSite);
    this.localStart = range[0];
    this.localEnd = range[1];
    this.selfInRoster = roster.contains(self);
    this.live = roster.size() - (selfInRoster ? 1 : 0);
    this.remoteSites = new RemoteSites(roster, selfSite);
  }

  /** The member's record (possibly a shared read-only one), or null if unknown or forgotten. */
  MemberRecord find(NodeId id) {
    return find(id.toByteString());
  }

  /** As {@link #find(NodeId)}, by wire id: the hot path for incoming updates. */
  MemberRecord find(ByteString key) {
    MemberRecord r = records.isEmpty() ? null : records.get(key);
    if (r != null) {
      return r.removed ? null : r;
    }
    MemberRecord base = roster.base(key);
    return base == null || key.equals(selfKey) ? null : base;
  }

  /** The record to mutate for {@code r}: {@code r} itself, or a private copy of a shared one. */
  MemberRecord writable(MemberRecord r) {
    if (!r.shared) {
      return r;
    }
    MemberRecord copy = r.writableCopy();
    records.put(copy.key, copy);
    return copy;
  }

  /** Adds an unknown (or forgotten) member. */
  MemberRecord add(MemberInfo info, long incarnation, MemberStatus status, long now) {
    version++;
    ByteString key = info.id().toByteString();
    MemberRecord r = records.get(key);
    if (r == null && roster.base(key) != null) {
      r = writable(roster.base(key));
      r.status = MemberStatus.DEAD; // counted out of live below
      live--;
    }
    if (r != null) { // a forgotten roster member comes back
      r.removed = false;
      r.info = info;
      r.incarnation = incarnation;
      r.status = MemberStatus.DEAD;
      setStatus(r, status, now);
      return r;
    }
    r = MemberRecord.of(info, incarnation, status, now);
    records.put(r.key, r);
    list(r);
    if (status.isLive()) {
      live++;
    }
    return r;
  }

  void setStatus(MemberRecord r, MemberStatus status, long now) {
    if (r.shared) {
      throw new IllegalStateException("shared roster record must be copied before change");
    }
    if (r.status.isLive() != status.isLive()) {
      live += status.isLive() ? 1 : -1;
    }
    r.status = status;
    r.statusSinceMillis = now;
    r.changed();
    version++; // callers set the incarnation just before: covered too
  }

  /** Forgets a dead or left member. */
  void remove(MemberRecord r) {
    if (r.status.isLive()) {
      throw new IllegalStateException("only dead or left members are forgotten");
    }
    version++;
    if (r.listIndex < 0) {
      r.removed = true; // roster member: keep the override so the base does not resurface
      return;
    }
    unlist(r);
    records.remove(r.key);
  }

  /**
   * Replaces what a member says about itself. A learned member whose site changed (a roaming
   * agent that restarted in another site) moves to the other group, so the groups stay the lists
   * of the members they name and {@link #remove} finds it where it is.
   */
  void setInfo(MemberRecord r, MemberInfo info) {
    boolean moves = r.listIndex >= 0 && !r.info.site().equals(info.site());
    if (moves) {
      unlist(r);
    }
    version++;
    r.info = info;
    if (moves) {
      list(r);
    }
  }

  /** Puts a learned member in its group (and, in another site, under its site). */
  private void list(MemberRecord r) {
    boolean local = r.info.site().equals(selfSite);
    ArrayList<MemberRecord> list = local ? learnedLocal : learnedRemote;
    r.listIndex = list.size();
    list.add(r);
    if (!local) {
      remoteSites.add(r);
    }
  }

  /** Takes a learned member out of its group (the last one fills its slot). */
  private void unlist(MemberRecord r) {
    boolean local = r.info.site().equals(selfSite);
    if (!local) {
      remoteSites.remove(r);
    }
    ArrayList<MemberRecord> list = local ? learnedLocal : learnedRemote;
    MemberRecord last = list.remove(list.size() - 1);
    if (last != r) {
      list.set(r.listIndex, last);
      last.listIndex = r.listIndex;
    }
    r.listIndex = -1;
  }

  /**
   * Changes whenever {@link #forEach} would list a different member set or a member with another
   * status, incarnation or info: a reader keeps a copy of the list until it moves.
   */
  long version() {
    return version;
  }

  /** Members learned at runtime and not forgotten (the roster's are not counted). */
  int learnedCount() {
    return learnedLocal.size() + learnedRemote.size();
  }

  /** Alive and suspect members, self excluded. */
  int liveCount() {
    return live;
  }

  /** Members of this node's own site other than itself (the shared roster of a simulation holds self). */
  int siteMates() {
    return groupSize(true) - (selfInRoster ? 1 : 0);
  }

  int groupSize(boolean local) {
    int rosterPart = local ? localEnd - localStart : roster.size() - (localEnd - localStart);
    return rosterPart + (local ? learnedLocal.size() : learnedRemote.size());
  }

  /**
   * The i-th member of a group, possibly self, dead or forgotten (callers filter with
   * {@link #eligible}); null if {@code i} is out of range (the group shrank).
   */
  MemberRecord groupAt(boolean local, int i) {
    int rosterPart = local ? localEnd - localStart : roster.size() - (localEnd - localStart);
    if (i < rosterPart) {
      int slot = local ? localStart + i : (i < localStart ? i : i + (localEnd - localStart));
      MemberRecord base = roster.base(slot);
      MemberRecord r = records.isEmpty() ? null : records.get(base.key);
      return r == null ? base : r;
    }
    ArrayList<MemberRecord> list = local ? learnedLocal : learnedRemote;
    int j = i - rosterPart;
    return j < list.size() ? list.get(j) : null;
  }

  /** Other sites that have members here (any status). */
  int remoteSiteCount() {
    return remoteSites.count();
  }

  /** Members of the {@code s}-th other site, any status. */
  int remoteSiteSize(int s) {
    return remoteSites.size(s);
  }

  /** The {@code j}-th member of the {@code s}-th other site (callers filter with {@link #eligible}). */
  MemberRecord remoteSiteAt(int s, int j) {
    int slot = remoteSites.rosterSlot(s, j);
    if (slot < 0) {
      return remoteSites.learned(s, j);
    }
    MemberRecord base = roster.base(slot);
    MemberRecord r = records.isEmpty() ? null : records.get(base.key);
    return r == null ? base : r;
  }

  /** Worth probing or gossiping to: live, known, not self. */
  boolean eligible(MemberRecord r) {
    return r != null && !r.removed && r.status.isLive() && !r.info.id().equals(self);
  }

  /** Every known member (not self, not forgotten), roster order first. */
  void forEach(Consumer<MemberRecord> sink) {
    for (int slot = 0; slot < roster.size(); slot++) {
      MemberRecord base = roster.base(slot);
      if (base.key.equals(selfKey)) {
        continue;
      }
      MemberRecord r = records.get(base.key);
      if (r == null) {
        sink.accept(base);
      } else if (!r.removed) {
        sink.accept(r);
      }
    }
    learnedLocal.forEach(sink);
    learnedRemote.forEach(sink);
  }
}
