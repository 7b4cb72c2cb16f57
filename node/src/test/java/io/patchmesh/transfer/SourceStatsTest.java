package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import org.junit.jupiter.api.Test;

class SourceStatsTest {
  private final NodeId peer = Ids.node("p");

  @Test
  void measuresInterArrivalWhileThePipelineIsBusy() {
    SourceStats stats = new SourceStats(1.0);
    stats.onDelivery(peer, 10_000, 0, 100); // first: includes the RTT
    assertEquals(100_000, stats.throughput(peer), 1);
    stats.onDelivery(peer, 10_000, 0, 110); // queued behind the first: 10 ms apart
    assertEquals(1_000_000, stats.throughput(peer), 1);
  }

  @Test
  void averagesSamples() {
    SourceStats stats = new SourceStats(0.5);
    stats.onDelivery(peer, 1000, 0, 1000); // 1000 B/s
    stats.onDelivery(peer, 3000, 1000, 2000); // 3000 B/s
    assertEquals(2000, stats.throughput(peer), 1e-6);
  }

  @Test
  void timeoutCutsTheEstimate() {
    SourceStats stats = new SourceStats(1.0);
    stats.onDelivery(peer, 100_000, 0, 100); // 1 MB/s
    stats.onTimeout(peer, 100_000, 10_000); // proved at most 10 kB/s
    assertEquals(10_000, stats.throughput(peer), 1);
    assertEquals(1, stats.timeouts(peer));
  }

  @Test
  void unmeasuredPeerIsUnknown() {
    SourceStats stats = new SourceStats(0.3);
    assertTrue(Double.isNaN(stats.throughput(peer)));
    assertTrue(Double.isNaN(stats.expectedArrivalMillis(peer, 0, 1000)));
  }

  @Test
  void expectedArrivalCountsRttAndBytesAhead() {
    SourceStats stats = new SourceStats(1.0);
    stats.onDelivery(peer, 1_000_000, 0, 1000); // 1 MB/s
    stats.onRttSample(peer, 50);
    assertEquals(50 + 3000, stats.expectedArrivalMillis(peer, 2_000_000, 1_000_000), 1e-6);
  }
}
