package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PipelineSizerTest {
  private final PipelineSizer sizer = new PipelineSizer(2, 64, 4);

  @Test
  void keepsA100MillisecondTwentyMegabitLinkFull() {
    double bytesPerSecond = 20_000_000 / 8.0; // 2.5 MB/s
    double rtt = 100;
    double bdp = bytesPerSecond * rtt / 1000; // 250 000 bytes in flight needed
    int chunk64k = 64 * 1024;
    int depth = sizer.depth(rtt, bytesPerSecond, chunk64k);
    assertEquals(5, depth); // ceil(250000 / 65536) = 4, + 1
    assertTrue(depth * (double) chunk64k >= bdp + chunk64k, "one chunk more than the BDP stays queued");
    int chunk16k = 16 * 1024;
    assertEquals(17, sizer.depth(rtt, bytesPerSecond, chunk16k)); // ceil(250000/16384) = 16, + 1
  }

  @Test
  void neverBelowTwoOnAFastLan() {
    assertEquals(2, sizer.depth(0.2, 125_000_000, 64 * 1024));
  }

  @Test
  void neverAboveSixtyFourOnALongFatLink() {
    assertEquals(64, sizer.depth(600, 125_000_000, 16 * 1024));
  }

  @Test
  void usesInitialDepthUntilMeasured() {
    assertEquals(4, sizer.depth(Double.NaN, 1e6, 65536));
    assertEquals(4, sizer.depth(100, Double.NaN, 65536));
  }

  @Test
  void depthGrowsWhenThePipelineWasTheLimit() {
    // A pipeline of d chunks over RTT r measures at most d*chunk/r; the next depth is d+1.
    int chunk = 65536;
    double rtt = 100;
    int d = 2;
    for (int i = 0; i < 5; i++) {
      double measured = d * (double) chunk / (rtt / 1000);
      int next = sizer.depth(rtt, measured, chunk);
      assertEquals(d + 1, next);
      d = next;
    }
  }
}
