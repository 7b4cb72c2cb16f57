package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AvoidListTest {

  @Test
  void aChunkIsAvoidedUntilItsTimeAndNotAfter() {
    AvoidList list = new AvoidList();
    list.avoid(3, 1_000);
    assertTrue(list.avoids(3, 999));
    assertFalse(list.avoids(4, 999));
    assertFalse(list.avoids(3, 1_000));
    assertTrue(list.isEmpty());
  }

  @Test
  void theBitSetViewDropsExpiredEntriesAndKeepsTheRest() {
    AvoidList list = new AvoidList();
    list.avoid(1, 100);
    list.avoid(2, 200);
    list.avoid(3, Long.MAX_VALUE);
    assertEquals(3, list.bits(50).cardinality());
    assertEquals("{2, 3}", list.bits(100).toString());
    assertEquals("{3}", list.bits(10_000).toString());
  }

  @Test
  void aShorterAvoidanceNeverShortensALongerOne() {
    AvoidList list = new AvoidList(); // e.g. a reject after a corrupt piece: still never again
    list.avoid(5, Long.MAX_VALUE);
    list.avoid(5, 10);
    assertTrue(list.avoids(5, 1_000_000));
  }
}
