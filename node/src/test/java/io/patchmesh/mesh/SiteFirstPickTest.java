package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A cross-site pick ({@link PeerSampler}) chooses the site first, then a member in it: a member
 * alone in its site gets as many of the fleet's cross-site picks as a whole other site (before:
 * one in N, so a seed alone in its data centre heard other sites' news late).
 */
class SiteFirstPickTest {
  private static NodeId id(int n) {
    byte[] b = new byte[32];
    b[0] = (byte) n;
    b[1] = (byte) (n >> 8);
    b[31] = 1;
    return NodeId.of(b);
  }

  private static MemberInfo info(int n, String site) {
    return MemberInfo.of(id(n), site, List.of("10.0." + (n >> 8) + "." + (n & 0xff) + ":7700"));
  }

  /** 10 members in our site, 60 in "big", 30 in "mid", 1 in "dc"; self is member 0. */
  private static List<MemberInfo> fleet() {
    List<MemberInfo> infos = new ArrayList<>();
    int n = 0;
    for (int i = 0; i < 10; i++) {
      infos.add(info(n++, "office"));
    }
    for (int i = 0; i < 60; i++) {
      infos.add(info(n++, "big"));
    }
    for (int i = 0; i < 30; i++) {
      infos.add(info(n++, "mid"));
    }
    infos.add(info(n, "dc"));
    return infos;
  }

  private static Map<String, Integer> crossSitePicks(MemberTable table, long seed, int picks) {
    PeerSampler sampler = new PeerSampler(table, new SplittableRandom(seed), m -> true);
    Map<String, Integer> bySite = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      MemberRecord r = sampler.pick(1.0, List.of(), true); // always across sites
      bySite.merge(r.info.site(), 1, Integer::sum);
    }
    return bySite;
  }

  @Test
  void everyOtherSiteGetsAnEqualShareOfCrossSitePicksWhateverItsSize() {
    List<MemberInfo> infos = fleet();
    MemberTable table = new MemberTable(infos.get(0).id(), "office", Roster.of(infos));
    Map<String, Integer> bySite = crossSitePicks(table, 7, 9_000);
    assertEquals(null, bySite.get("office"), "a share of 1.0 never picks the own site");
    for (String site : List.of("big", "mid", "dc")) {
      int got = bySite.getOrDefault(site, 0);
      assertTrue(got > 2_700 && got < 3_300, site + ": " + got + " of 9,000 (a third expected)");
    }
  }

  @Test
  void membersLearnedAtRuntimeArePickedBySiteAndAnEmptiedSiteIsDropped() {
    List<MemberInfo> infos = fleet();
    MemberTable table = new MemberTable(infos.get(0).id(), "office", Roster.empty());
    List<MemberRecord> records = new ArrayList<>();
    for (int i = 1; i < infos.size(); i++) {
      records.add(table.add(infos.get(i), 1, MemberStatus.ALIVE, 0));
    }
    assertEquals(3, table.remoteSiteCount());
    int dc = crossSitePicks(table, 9, 9_000).getOrDefault("dc", 0);
    assertTrue(dc > 2_700 && dc < 3_300, "dc: " + dc + " of 9,000");

    MemberRecord lone = records.get(records.size() - 1);
    table.setStatus(lone, MemberStatus.DEAD, 1);
    assertEquals(0, crossSitePicks(table, 9, 3_000).getOrDefault("dc", 0), "a dead member is not picked");
    table.remove(lone);
    assertEquals(2, table.remoteSiteCount(), "dc had nobody else: dropped");

    MemberRecord mover = records.get(20); // in "big", restarts in "dc"
    table.setInfo(mover, info(21, "dc"));
    assertEquals(3, table.remoteSiteCount());
    int moved = crossSitePicks(table, 11, 9_000).getOrDefault("dc", 0);
    assertTrue(moved > 2_700 && moved < 3_300, "the mover alone in dc: " + moved + " of 9,000");
  }
}
