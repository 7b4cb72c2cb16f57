package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SiteEconomyTest {
  private static final int N = 500;
  private static final long GRACE = 1_000;
  private final NodeId me = Ids.node("me");
  private final NodeId a = Ids.node("a");
  private final NodeId b = Ids.node("b");

  @Test
  void theOwnedSetIsExactlyTheChunksOfRankZero() {
    SiteEconomy site = new SiteEconomy(me, Ids.table("t", N, 1000), 0);
    site.setMembers(Set.of(me, a, b), 0);
    int owned = 0;
    for (int c = 0; c < N; c++) {
      assertEquals(site.myRank(c) == 0, site.owned().get(c), "chunk " + c);
      owned += site.myRank(c) == 0 ? 1 : 0;
    }
    assertTrue(owned > N / 6 && owned < N / 2, "about a third each: " + owned);
    site.setMembers(Set.of(me), 10);
    assertEquals(N, site.owned().cardinality(), "alone I own everything");
  }

  @Test
  void beforeTakeoverIsPossibleNoChunkOfAnotherMemberMayBeFetched() {
    SiteEconomy site = new SiteEconomy(me, Ids.table("t", N, 1000), 0);
    site.setMembers(Set.of(me, a, b), 0);
    site.setObserved(a, true);
    site.setObserved(b, true);
    site.onMemberProgress(a, 5_000);
    site.onMemberProgress(b, 3_000);
    long from = site.takeoverPossibleFrom(GRACE);
    assertEquals(4_000, from, "b, the member idle longest, may be taken over first");
    for (long now : new long[] {from - 1, from, from + 5_000}) {
      boolean anyOther = false;
      for (int c = 0; c < N; c++) {
        if (!site.owned().get(c) && site.mayFetchFromWan(c, 0, GRACE, now)) {
          anyOther = true;
        }
      }
      if (now < from) {
        assertFalse(anyOther, "at " + now);
      } else if (now > from + GRACE) {
        assertTrue(anyOther, "at " + now);
      }
    }
  }

  @Test
  void aloneTakeoverIsNeverNeeded() {
    SiteEconomy site = new SiteEconomy(me, Ids.table("t", N, 1000), 0);
    assertEquals(Long.MAX_VALUE, site.takeoverPossibleFrom(GRACE));
  }
}
