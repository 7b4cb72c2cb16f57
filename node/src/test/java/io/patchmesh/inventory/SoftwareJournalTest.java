package io.patchmesh.inventory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.InventoryUpdate;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SoftwareJournalTest {
  private static SoftwareList list(String... nv) {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < nv.length; i += 2) {
      m.put(nv[i], nv[i + 1]);
    }
    return SoftwareList.of(m);
  }

  /** What a seed does with an update: replace or apply, then check the digest. */
  private static SoftwareList applyLikeASeed(SoftwareList held, InventoryUpdate u) {
    SoftwareList base = u.getFull() ? SoftwareList.EMPTY : held;
    SoftwareList next = base.apply(new SoftwareList.Delta(u.getUpsertsList(), u.getRemovedList()));
    assertArrayEquals(u.getDigest().toByteArray(), next.digest(), "digest of the result matches the agent's");
    return next;
  }

  @Test
  void sendsTheFullListOnceThenOnlyChangesSinceTheSeedsGeneration() {
    SoftwareJournal j = new SoftwareJournal(1000);
    assertTrue(j.offer(list("a", "1", "b", "2", "c", "3"), "dpkg", 0));
    long g1 = j.generation();
    assertEquals(1001, g1);
    InventoryUpdate full = j.updateSince(0);
    assertTrue(full.getFull());
    SoftwareList seed = applyLikeASeed(SoftwareList.EMPTY, full);

    assertFalse(j.offer(list("a", "1", "b", "2", "c", "3"), "dpkg", 1), "same list: no new generation");
    assertTrue(j.offer(list("a", "1", "b", "2.1", "d", "4"), "dpkg", 2));
    assertTrue(j.offer(list("a", "1", "b", "2.2", "d", "4", "e", "5"), "dpkg", 3));
    InventoryUpdate delta = j.updateSince(g1);
    assertFalse(delta.getFull());
    assertEquals(g1, delta.getBaseGeneration());
    assertEquals(3, delta.getUpsertsCount(), "b, d, e");
    assertEquals(1, delta.getRemovedCount(), "c");
    seed = applyLikeASeed(seed, delta);
    assertEquals(j.current().packages(), seed.packages());
  }

  @Test
  void aSeedTooFarBehindGetsTheFullList() {
    SoftwareJournal j = new SoftwareJournal(0);
    for (int i = 0; i <= InventoryLimits.DELTA_HISTORY + 2; i++) {
      j.offer(list("p", Integer.toString(i)), "dpkg", i);
    }
    assertTrue(j.updateSince(1).getFull());
    assertFalse(j.updateSince(j.generation() - 1).getFull());
    assertEquals(0, j.updateSince(j.generation()).getUpsertsCount(), "a current seed gets an empty confirmation");
  }

  @Test
  void aFailedCollectionKeepsTheLastListAndReportsWhy() {
    SoftwareJournal j = new SoftwareJournal(0);
    j.offer(list("a", "1"), "dpkg", 0);
    assertTrue(j.failed("collector timed out after 60 s", "dpkg", 1));
    assertEquals(1, j.summary().getPackages());
    assertEquals("collector timed out after 60 s", j.summary().getError());
    j.offer(list("a", "1"), "dpkg", 2);
    assertEquals("", j.summary().getError(), "a good run clears the error");
  }
}
