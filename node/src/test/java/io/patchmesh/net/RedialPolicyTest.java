package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RedialPolicyTest {
  private final RedialPolicy policy =
      new RedialPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(1), new Random(3));

  @Test
  void aSilentPathIsRetriedEverySecondHoweverLongItStaysSilent() {
    // A 60 s cut: a dial every ~1-5 s (4 s connect timeout + this wait) fails unanswered.
    for (int i = 0; i < 100; i++) {
      Duration wait = policy.afterFailure(true);
      assertTrue(wait.toMillis() >= 500 && wait.toMillis() <= 1000, "failure " + i + ": " + wait);
    }
  }

  @Test
  void aPeerThatAnswersAndRefusesIsBackedOffExponentiallyUpToTheMaximum() {
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      waits.add(policy.afterFailure(false).toMillis());
    }
    long[] bases = {1, 2, 4, 8, 16, 32, 60, 60, 60};
    for (int i = 0; i < bases.length; i++) {
      assertTrue(waits.get(i) >= bases[i] * 500 && waits.get(i) <= bases[i] * 1000, i + ": " + waits);
    }
  }

  @Test
  void unansweredDialsDoNotGrowTheBackoffOfLaterRefusals() {
    for (int i = 0; i < 20; i++) {
      policy.afterFailure(true);
    }
    assertTrue(policy.afterFailure(false).toMillis() <= 1000);
  }

  @Test
  void aLostLinkIsRedialledAfterTheFirstStepOnceItHadBeenUp() {
    for (int i = 0; i < 6; i++) {
      policy.afterFailure(false);
    }
    policy.linked();
    assertTrue(policy.afterLoss().toMillis() <= 1000);
  }

  @Test
  void onlyEveryDoublingOfConsecutiveFailuresIsWorthALogLine() {
    List<Integer> logged = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      policy.afterFailure(true);
      if (policy.worthLogging()) {
        logged.add(i);
      }
    }
    assertEquals(List.of(1, 2, 4, 8, 16, 32), logged);
    policy.linked();
    policy.afterFailure(true);
    assertTrue(policy.worthLogging());
  }
}
