package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusScheduleTest {
  /**
   * An idle node probes once a second: whatever the probe's phase against the status tick, the
   * tick runs at the probe's wake-up, once a second, and never wakes the loop on its own.
   */
  @Test
  void idleStatusTickRidesOnAProbeASecondWhateverThePhase() {
    for (long phase = 0; phase < StatusSchedule.PERIOD_MILLIS; phase += 25) {
      StatusSchedule s = new StatusSchedule(0);
      int runs = 0;
      int ownWakeUps = 0;
      long probe = phase;
      long t = 0;
      long end = 60_000;
      while (t < end) {
        long wakeBy = s.wakeByMillis(false);
        if (wakeBy < probe) {
          t = wakeBy;
          ownWakeUps += s.runNow(t, false) ? 1 : 0;
          runs++;
        } else {
          t = probe;
          runs += s.runNow(t, false) ? 1 : 0;
          probe += StatusSchedule.PERIOD_MILLIS + 3; // a probe wakes a little late each time
        }
      }
      assertTrue(ownWakeUps <= 1, "phase " + phase + ": the status tick woke the loop itself " + ownWakeUps + " times");
      assertTrue(runs >= 58 && runs <= 61, "phase " + phase + ": " + runs + " status ticks in 60 s");
    }
  }

  @Test
  void idleNodeWithNothingElseToWakeForTicksEveryPeriodAndAHalf() {
    StatusSchedule s = new StatusSchedule(0);
    List<Long> at = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      long t = s.wakeByMillis(false);
      assertTrue(s.runNow(t, false));
      at.add(t);
    }
    assertEquals(List.of(1_500L, 3_000L, 4_500L, 6_000L), at);
  }

  @Test
  void busyNodeTicksOnTheGridAndSkipsMissedTicks() {
    StatusSchedule s = new StatusSchedule(0);
    assertFalse(s.runNow(990, true), "not before its time while busy");
    assertEquals(1_000, s.wakeByMillis(true));
    assertTrue(s.runNow(1_010, true));
    assertEquals(2_000, s.wakeByMillis(true), "on the grid, not a period after the late run");
    assertTrue(s.runNow(5_300, true), "a paused node runs one tick");
    assertEquals(6_050, s.wakeByMillis(true), "and not the ones it missed");
  }

  @Test
  void idleRunsEarlyWhenAwakeAnyway() {
    StatusSchedule s = new StatusSchedule(0);
    assertFalse(s.runNow(400, false));
    assertTrue(s.runNow(500, false), "half a period early shares the wake-up");
    assertEquals(2_000, s.wakeByMillis(false), "the next a period after, at the latest half a period more");
  }
}
