package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusScheduleTest {
  /**
   * An idle seed probes once a second: whatever the probe's phase against the status tick, the
   * tick runs at the probe's wake-up, once a second, and never wakes the loop on its own.
   */
  @Test
  void idleStatusTickRidesOnAProbeASecondWhateverThePhase() {
    for (long phase = 0; phase < StatusSchedule.PERIOD_MILLIS; phase += 25) {
      Ridden r = ride(new StatusSchedule(0, StatusSchedule.PERIOD_MILLIS), phase, StatusSchedule.PERIOD_MILLIS);
      assertTrue(r.ownWakeUps <= 1, "phase " + phase + ": the status tick woke the loop itself " + r.ownWakeUps + " times");
      assertTrue(r.runs >= 58 && r.runs <= 61, "phase " + phase + ": " + r.runs + " status ticks in 60 s");
    }
  }

  /**
   * An idle agent probes every 2 s: the tick rides on each probe, every 2 s whatever the phase, and
   * never wakes the loop on its own (with the window of one period it woke the loop 1.5 s after
   * every probe: 30 wake-ups a minute of its own; BENCHMARKS 12.45).
   */
  @Test
  void idleStatusTickRidesOnAnAgentsProbeEveryTwoSecondsWhateverThePhase() {
    for (long phase = 0; phase < 2 * StatusSchedule.PERIOD_MILLIS; phase += 25) {
      Ridden r = ride(new StatusSchedule(0, 2_000), phase, 2_000);
      assertTrue(r.ownWakeUps <= 1, "phase " + phase + ": the status tick woke the loop itself " + r.ownWakeUps + " times");
      assertTrue(r.runs >= 29 && r.runs <= 31, "phase " + phase + ": " + r.runs + " status ticks in 60 s");
    }
  }

  @Test
  void theIdleWindowIsAPeriodAtLeastAndTwoAtMost() {
    assertEquals(1_500, new StatusSchedule(0, 500).wakeByMillis(false));
    assertEquals(2_500, new StatusSchedule(0, 2_000).wakeByMillis(false));
    assertEquals(2_500, new StatusSchedule(0, 5_000).wakeByMillis(false), "a WAN node's status is at most 2.5 s old");
    assertEquals(1_000, new StatusSchedule(0, 5_000).wakeByMillis(true), "busy: the one-second grid whatever the probe");
  }

  /** Status ticks and the tick's own wake-ups in 60 s of an idle node that wakes only to probe. */
  private static Ridden ride(StatusSchedule s, long firstProbe, long probeInterval) {
    int runs = 0;
    int ownWakeUps = 0;
    long probe = firstProbe;
    long t = 0;
    while (t < 60_000) {
      long wakeBy = s.wakeByMillis(false);
      if (wakeBy < probe) {
        t = wakeBy;
        ownWakeUps += s.runNow(t, false) ? 1 : 0;
        runs++;
      } else {
        t = probe;
        runs += s.runNow(t, false) ? 1 : 0;
        probe += probeInterval + 3; // a probe wakes a little late each time
      }
    }
    return new Ridden(runs, ownWakeUps);
  }

  private record Ridden(int runs, int ownWakeUps) {}

  @Test
  void idleNodeWithNothingElseToWakeForTicksEveryPeriodAndAHalf() {
    StatusSchedule s = new StatusSchedule(0, StatusSchedule.PERIOD_MILLIS);
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
    StatusSchedule s = new StatusSchedule(0, StatusSchedule.PERIOD_MILLIS);
    assertFalse(s.runNow(990, true), "not before its time while busy");
    assertEquals(1_000, s.wakeByMillis(true));
    assertTrue(s.runNow(1_010, true));
    assertEquals(2_000, s.wakeByMillis(true), "on the grid, not a period after the late run");
    assertTrue(s.runNow(5_300, true), "a paused node runs one tick");
    assertEquals(6_050, s.wakeByMillis(true), "and not the ones it missed");
  }

  @Test
  void idleRunsEarlyWhenAwakeAnyway() {
    StatusSchedule s = new StatusSchedule(0, StatusSchedule.PERIOD_MILLIS);
    assertFalse(s.runNow(400, false));
    assertTrue(s.runNow(500, false), "half a period early shares the wake-up");
    assertEquals(2_000, s.wakeByMillis(false), "the next a period after, at the latest half a period more");
  }
}
