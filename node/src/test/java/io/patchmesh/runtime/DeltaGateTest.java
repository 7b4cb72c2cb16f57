package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Encoding deltas per manifest served: stops after encodes that do not pay, probes, reopens on one that does. */
class DeltaGateTest {
  private final DeltaGate gate = new DeltaGate();

  private void miss(Object m, int n) {
    for (int i = 0; i < n; i++) {
      assertTrue(gate.tryEncode(m));
      gate.encoded(m, false);
    }
  }

  /** How many of {@code n} requests the gate lets encode (each encode not paying). */
  private int encodesOf(Object m, int n) {
    int encodes = 0;
    for (int i = 0; i < n; i++) {
      if (gate.tryEncode(m)) {
        encodes++;
        gate.encoded(m, false);
      }
    }
    return encodes;
  }

  @Test
  void openUntilMissesInARowThenOnlyProbes() {
    miss("v2", DeltaGate.MISSES - 1);
    assertTrue(gate.tryEncode("v2"), "one miss short of closing: still open");
    gate.encoded("v2", false);
    assertEquals(10, encodesOf("v2", 10 * DeltaGate.PROBE_EVERY), "closed: one probe in PROBE_EVERY");
    assertEquals(10 * (DeltaGate.PROBE_EVERY - 1), gate.skipped());
  }

  @Test
  void oneDeltaThatPaysReopensAndResetsTheCount() {
    miss("v2", DeltaGate.MISSES);
    assertFalse(gate.tryEncode("v2"));
    for (int i = 1; i < DeltaGate.PROBE_EVERY - 1; i++) {
      assertFalse(gate.tryEncode("v2"));
    }
    assertTrue(gate.tryEncode("v2"), "the probe");
    gate.encoded("v2", true);
    miss("v2", DeltaGate.MISSES - 1); // all still tried: the count started again
    assertTrue(gate.tryEncode("v2"));
  }

  @Test
  void aMissRunBrokenByAHitNeverCloses() {
    for (int round = 0; round < 5; round++) {
      miss("v2", DeltaGate.MISSES - 1);
      assertTrue(gate.tryEncode("v2"));
      gate.encoded("v2", true);
    }
    assertEquals(0, gate.skipped());
  }

  @Test
  void perManifest() {
    miss("v2", DeltaGate.MISSES);
    assertTrue(gate.tryEncode("v3"), "another manifest's requests are still encoded");
    assertFalse(gate.tryEncode("v2"));
  }

  @Test
  void forgetsTheOldestManifestsBeyondItsBound() {
    miss("old", DeltaGate.MISSES);
    for (int i = 0; i < DeltaGate.REMEMBERED; i++) {
      gate.encoded("m" + i, false);
    }
    assertTrue(gate.tryEncode("old"), "forgotten: open again");
  }
}
