package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How late the node's loop runs, from its wake-up timer, on virtual time. */
class LoopLatenessTest {
  @Test
  void aLoopThatKeepsTimeIsNeverLate() {
    LoopLateness l = new LoopLateness();
    assertEquals(0, l.lateMillis(0));
    l.armed(0, 20);
    assertEquals(0, l.lateMillis(10));
    assertEquals(0, l.lateMillis(20));
    l.fired(20);
    assertEquals(0, l.lateMillis(21));
  }

  @Test
  void anOverdueWakeUpIsHowLateTheLoopIs() {
    LoopLateness l = new LoopLateness();
    l.armed(1_000, 1_020);
    assertEquals(0, l.lateMillis(1_020));
    assertEquals(480, l.lateMillis(1_500)); // its timer could not run: starved, or busy
  }

  @Test
  void aLateWakeUpsBacklogCountsForAsLongAsItWasLate() {
    LoopLateness l = new LoopLateness();
    l.armed(0, 20);
    l.fired(420); // 400 ms late
    l.armed(420, 440);
    assertEquals(400, l.lateMillis(430)); // what arrived meanwhile is still being worked through
    assertEquals(400, l.lateMillis(820));
    assertEquals(381, l.lateMillis(821));
  }

  @Test
  void aWakeUpSetForThePastFiresAtOnceAndIsNotLateForIt() {
    LoopLateness l = new LoopLateness();
    l.armed(5_000, 4_000);
    assertEquals(0, l.lateMillis(5_000));
    assertEquals(100, l.lateMillis(5_100));
    l.fired(5_000);
    assertEquals(0, l.lateMillis(5_001));
  }

  @Test
  void firingWithNothingArmedIsNotLate() {
    LoopLateness l = new LoopLateness();
    l.fired(7_000);
    assertEquals(0, l.lateMillis(7_000));
  }
}
