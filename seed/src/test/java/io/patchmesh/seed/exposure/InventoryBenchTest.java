package io.patchmesh.seed.exposure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The benchmark at a small scale: it runs, and deltas are what the numbers claim. */
class InventoryBenchTest {
  @Test
  void deltasAreAFractionOfTheFullListAndTheQueryFindsTheExposedHosts() {
    InventoryBench.Result r = InventoryBench.run(300, 400, new Random(1));
    assertTrue(r.deltaBytesPerHostBatched() * 10 < r.fullBytesPerHost(), r.toString());
    assertEquals(100, r.exposed(), "hosts 0, 3, 6, ... run version 0 of the package, below the fixed version 1: " + r);
  }
}
