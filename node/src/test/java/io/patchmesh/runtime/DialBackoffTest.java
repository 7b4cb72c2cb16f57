package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Failed dials to a member back off (doubling, jittered, capped); a link clears it. Virtual time. */
class DialBackoffTest {
  @Test
  void aFailedDialHoldsTheMemberBackForADoublingJitteredWaitUpToTheCap() {
    DialBackoff<String> b = new DialBackoff<>(new Random(3));
    assertTrue(b.mayDial("m", 0));
    long now = 0;
    long[] steps = {1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000};
    for (long step : steps) {
      b.failed("m", now);
      long wait = b.notBeforeMillis("m") - now;
      assertTrue(wait >= step / 2 && wait <= step, step + " -> " + wait);
      assertFalse(b.mayDial("m", now + wait - 1));
      assertTrue(b.mayDial("m", now + wait));
      now += wait;
    }
    assertTrue(b.mayDial("other", now), "per member");
  }

  @Test
  void aLinkUpClearsTheWait() {
    DialBackoff<String> b = new DialBackoff<>(new Random(1));
    b.failed("m", 0);
    b.failed("m", 1_000);
    b.linked("m");
    assertTrue(b.mayDial("m", 1_001));
    b.failed("m", 2_000);
    assertTrue(b.notBeforeMillis("m") - 2_000 <= 1_000, "starts over from the first step");
  }

  @Test
  void membersThatFailedTogetherAreSpreadAndTheTableIsBounded() {
    DialBackoff<Integer> b = new DialBackoff<>(new Random(7));
    Set<Long> due = new HashSet<>();
    for (int i = 0; i < DialBackoff.MAX_ENTRIES + 100; i++) {
      b.failed(i, 0);
      due.add(b.notBeforeMillis(i));
    }
    assertTrue(due.size() > 400, "jittered: " + due.size() + " distinct times");
    assertEquals(DialBackoff.MAX_ENTRIES, b.size());
    assertTrue(b.mayDial(0, 0), "the oldest forgotten");
  }
}
