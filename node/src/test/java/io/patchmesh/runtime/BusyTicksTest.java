package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A fetching node's wake-ups: full ticks at the swarm's deadlines or every 100 ms, the site's Haves in between. */
class BusyTicksTest {
  private static final long TICK = 20;
  private static final long NONE = Long.MAX_VALUE;

  @Test
  void theFirstWakeUpOfAFetchIsAFullTick() {
    BusyTicks t = new BusyTicks(TICK);
    assertTrue(t.fullNow(1_000, NONE));
    assertEquals(1_000 + TICK, t.wakeMillis(1_000, NONE, NONE, NONE), "due at once: the next period");
  }

  @Test
  void withoutDeadlinesAFullTickEveryPeriod() {
    BusyTicks t = new BusyTicks(TICK);
    t.ranFull(1_000);
    assertEquals(1_000 + BusyTicks.FULL_PERIOD_MILLIS, t.wakeMillis(1_000, NONE, NONE, NONE));
    assertFalse(t.fullNow(1_099, NONE));
    assertTrue(t.fullNow(1_100, NONE));
    // the period counts from the last full tick, however often the node was woken meanwhile
    assertEquals(1_100, t.wakeMillis(1_070, NONE, NONE, NONE));
    assertEquals(1_090 + TICK, t.wakeMillis(1_090, NONE, NONE, NONE), "never sooner than a period from now");
  }

  @Test
  void siteHavesWakeTheNodeWhenDueWithoutAFullTick() {
    BusyTicks t = new BusyTicks(TICK);
    t.ranFull(1_000);
    assertEquals(1_060, t.wakeMillis(1_010, NONE, 1_060, NONE), "the Haves' gap runs out before the full tick");
    assertFalse(t.fullNow(1_060, NONE), "a wake-up for Haves alone");
    assertEquals(1_100, t.wakeMillis(1_010, NONE, 1_100, NONE), "due with the full tick: one wake-up for both");
    assertEquals(1_010 + TICK, t.wakeMillis(1_010, NONE, 900, NONE), "overdue: the next period, not a spin");
  }

  @Test
  void theSwarmsDeadlineAndOtherTimersComeFirst() {
    BusyTicks t = new BusyTicks(TICK);
    t.ranFull(1_000);
    assertEquals(1_050, t.wakeMillis(1_000, 1_050, NONE, NONE));
    assertTrue(t.fullNow(1_050, 1_050), "a request's clock runs out: full tick");
    t.ranFull(1_050);
    assertEquals(1_070, t.wakeMillis(1_050, NONE, NONE, 1_070), "a membership or status timer");
    assertFalse(t.fullNow(1_070, NONE), "which the swarm need not tick for");
    assertEquals(1_050 + TICK, t.wakeMillis(1_050, 900, NONE, NONE), "a deadline past: the next period, not a spin");
  }

  @Test
  void aPeriodShorterThanTheFullOneNeverStretchesIt() {
    BusyTicks t = new BusyTicks(500); // a test's slow loop period
    t.ranFull(1_000);
    assertEquals(1_500, t.wakeMillis(1_000, NONE, NONE, NONE));
    assertFalse(t.fullNow(1_499, NONE));
    assertTrue(t.fullNow(1_500, NONE));
  }
}
