package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ManifestFetchLimitsTest {
  final ManifestFetchLimits limits = ManifestFetchLimits.forHeap(256L << 20);

  @Test
  void theShippedUnitsHeapGivesAThirdOfItToManifestDownloads() {
    assertEquals((256L << 20) / 3, limits.maxBytesInFlight());
    assertEquals(8, limits.maxDownloads());
    assertEquals(2, limits.maxPerSource());
    assertEquals(96L << 20, ManifestFetchLimits.forHeap(2L << 30).maxBytesInFlight(), "at most 96 MiB");
    assertEquals(ManifestFetchLimits.MAX_ENVELOPE_BYTES, limits.maxEnvelopeBytes(), "any manifest the verifier takes");
  }

  @Test
  void theAgentLaunchersSmallHeapFetchesManifestsUpToAThirdOfIt() {
    ManifestFetchLimits small = ManifestFetchLimits.forHeap(64L << 20);
    assertEquals((64L << 20) / 3, small.maxEnvelopeBytes());
    assertEquals((64L << 20) / 3, small.maxBytesInFlight());
    assertTrue(small.tooBigForHeap(ManifestFetchLimits.MAX_ENVELOPE_BYTES), "a 64 MiB envelope would exhaust the heap");
    assertTrue(!small.tooBigForHeap(170_000));
    assertEquals(small.maxEnvelopeBytes(), small.reservationFor(ManifestFetchLimits.MAX_ENVELOPE_BYTES));
    assertEquals(ManifestFetchLimits.MIN_ENVELOPE_BYTES, ManifestFetchLimits.forHeap(4L << 20).maxEnvelopeBytes(),
        "never below the floor");
    assertEquals(ManifestFetchLimits.MAX_ENVELOPE_BYTES, ManifestFetchLimits.forHeap(3 * ManifestFetchLimits.MAX_ENVELOPE_BYTES).maxEnvelopeBytes());
  }

  @Test
  void aTrickleOfOneBytePerTenSecondsIsTooSlowRightAfterTheGrace() {
    long asked = 1_000;
    assertNull(limits.tooSlow(asked + 10_000, asked, asked + 10_000, 1), "within the grace");
    assertNotNull(limits.tooSlow(asked + 11_000, asked, asked + 10_000, 1));
  }

  @Test
  void theFieldsTimersAreTheDefaultAndFastTimersKeepTheRule() {
    assertEquals(10_000, limits.graceMillis());
    assertEquals(15_000, limits.stallMillis());
    ManifestFetchLimits fast = ManifestFetchLimits.forHeap(256L << 20, ManifestFetchTimers.fast());
    assertEquals(limits.minBytesPerSecond(), fast.minBytesPerSecond(), "the same rate is asked for");
    assertEquals(limits.maxBytesInFlight(), fast.maxBytesInFlight());
    long asked = 1_000;
    assertNull(fast.tooSlow(asked + 2_000, asked, asked + 2_000, 1), "within the grace");
    assertNotNull(fast.tooSlow(asked + 3_000, asked, asked + 2_000, 1), "a trickle of one byte per grace");
    assertTrue(fast.tooSlow(asked + 6_100, asked, asked + 2_000, 1L << 20).startsWith("stalled"));
  }

  @Test
  void anHonestSourceAtLinkSpeedIsNeverTooSlow() {
    long asked = 0;
    // 170 KB manifest over a 1 Mbit/s link: done in under 2 s, never judged
    assertNull(limits.tooSlow(1_500, asked, 1_400, 170_000));
    // a 64 MiB manifest at 1 MB/s, judged every second along the way
    for (long t = 1_000; t <= 64_000; t += 1_000) {
      assertNull(limits.tooSlow(t, asked, t, t * 1_000));
    }
  }

  @Test
  void silenceIsAStallWhateverTheAverage() {
    String why = limits.tooSlow(40_000, 0, 24_000, 10L << 20);
    assertNotNull(why);
    assertTrue(why.startsWith("stalled"), why);
  }

  @Test
  void aDownloadReservesItsAnnouncedSizePlusRoomForOtherSignatures() {
    assertEquals(170_000 + (64 << 10), limits.reservationFor(170_000));
    assertEquals(ManifestFetchLimits.MAX_ENVELOPE_BYTES, limits.reservationFor(ManifestFetchLimits.MAX_ENVELOPE_BYTES));
  }
}
