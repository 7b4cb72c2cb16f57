package io.patchmesh.mesh;

import java.util.ArrayList;
import java.util.HashMap;

/**
 * The members of other sites grouped by site, so that a cross-site pick can choose the site first
 * ({@link PeerSampler}): a member alone in its site then gets as much of the fleet's cross-site
 * gossip as any whole site, instead of one share in N. Roster members are slot ranges (the roster
 * is ordered by site); members learned at runtime are listed per site. Sites without members are
 * dropped. Order is deterministic (roster order, then order of learning).
 */
final class RemoteSites {
  private static final class Site {
    final String name;
    int rosterStart;
    int rosterEnd;
    final ArrayList<MemberRecord> learned = new ArrayList<>();
    int index;

    Site(String name) {
      this.name = name;
    }

    int size() {
      return rosterEnd - rosterStart + learned.size();
    }
  }

  private final ArrayList<Site> sites = new ArrayList<>();
  private final HashMap<String, Site> byName = new HashMap<>();

  RemoteSites(Roster roster, String selfSite) {
    int slot = 0;
    while (slot < roster.size()) {
      String name = roster.base(slot).info.site();
      int[] range = roster.siteRange(name);
      if (!name.equals(selfSite)) {
        Site s = site(name);
        s.rosterStart = range[0];
        s.rosterEnd = range[1];
      }
      slot = Math.max(slot + 1, range[1]);
    }
  }

  /** A member learned at runtime in another site. */
  void add(MemberRecord r) {
    site(r.info.site()).learned.add(r);
  }

  /** Takes a learned member out of its site (as listed under {@code r.info.site()}). */
  void remove(MemberRecord r) {
    Site s = byName.get(r.info.site());
    if (s == null || !s.learned.remove(r) || s.size() > 0) {
      return;
    }
    Site last = sites.remove(sites.size() - 1);
    if (last != s) {
      sites.set(s.index, last);
      last.index = s.index;
    }
    byName.remove(s.name);
  }

  int count() {
    return sites.size();
  }

  /** Members of the {@code i}-th site (any status). */
  int size(int i) {
    return sites.get(i).size();
  }

  /** The roster slot of the {@code j}-th member of site {@code i}, or -1 if it is a learned one. */
  int rosterSlot(int i, int j) {
    Site s = sites.get(i);
    return j < s.rosterEnd - s.rosterStart ? s.rosterStart + j : -1;
  }

  /** The {@code j}-th member of site {@code i} when it is a learned one ({@link #rosterSlot} is -1). */
  MemberRecord learned(int i, int j) {
    Site s = sites.get(i);
    return s.learned.get(j - (s.rosterEnd - s.rosterStart));
  }

  private Site site(String name) {
    Site s = byName.get(name);
    if (s == null) {
      s = new Site(name);
      s.index = sites.size();
      sites.add(s);
      byName.put(name, s);
    }
    return s;
  }
}
