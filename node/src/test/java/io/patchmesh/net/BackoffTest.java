package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesWithJitterUpToTheMaximumAndStartsOverAfterReset() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), new Random(7));
    long[] bases = {1, 2, 4, 8, 16, 32, 60, 60, 60};
    for (long base : bases) {
      Duration next = backoff.next();
      assertTrue(next.toMillis() >= base * 500 && next.toMillis() <= base * 1000, base + "s -> " + next);
    }
    backoff.reset();
    assertTrue(backoff.next().toMillis() <= 1000);
  }

  @Test
  void jitterSpreadsNodesThatFailedTogether() {
    long distinct = new Random(1).ints(20).mapToObj(seed -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60),
        new Random(seed)).next()).distinct().count();
    assertTrue(distinct > 15);
  }
}
