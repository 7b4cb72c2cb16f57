package io.patchmesh.transfer.swarm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SwarmConfigTest {
  @Test
  void defaultsAreTheValuesTheSwarmHasRunWith() {
    SwarmConfig c = SwarmConfig.defaults();
    assertEquals(30_000, c.interestGraceMillis());
    assertEquals(2, c.crossSitePeers());
    assertEquals(64, c.maxOutstandingPerPeer());
    assertEquals(64, c.maxPipeline());
    assertEquals(4, c.stalledTimeouts());
    assertEquals(15_000, c.stalledSilenceMillis());
    assertEquals(1_000, c.wanStartDelayMillis());
    assertEquals(2_000, c.wanHaveIntervalMillis());
    assertEquals(5_000, c.redialMillis());
    assertEquals(1_000, c.pauseMillis());
    assertEquals(2_000, c.storeFullRetryMillis());
    assertEquals(10_000, c.storeFullClearMillis());
    assertEquals(3_000, c.linkSilentMillis());
    assertEquals(10_000, c.linkAbandonedMillis());
    assertEquals(3_000, c.silentMemberGraceMillis());
  }

  @Test
  void fastPresetShortensTheProtocolTimersAndKeepsTheBounds() {
    SwarmConfig d = SwarmConfig.defaults();
    SwarmConfig f = SwarmConfig.fast();
    assertTrue(f.interestGraceMillis() < d.interestGraceMillis());
    assertTrue(f.linkSilentMillis() < d.linkSilentMillis());
    assertTrue(f.linkAbandonedMillis() < d.linkAbandonedMillis());
    assertTrue(f.stalledSilenceMillis() < d.stalledSilenceMillis());
    assertTrue(f.silentMemberGraceMillis() < d.silentMemberGraceMillis());
    assertEquals(d.maxPipeline(), f.maxPipeline());
    assertEquals(d.maxOutstandingPerPeer(), f.maxOutstandingPerPeer());
    assertEquals(d.stalledTimeouts(), f.stalledTimeouts());
    assertEquals(d.pauseMillis(), f.pauseMillis(), "a pause is the host's, not the protocol's");
  }

  @Test
  void rejectsAnAbandonTimeShorterThanTheSilence() {
    assertThrows(IllegalArgumentException.class,
        () -> new SwarmConfig(30_000, 2, 64, 64, 4, 15_000, 1_000, 2_000, 5_000, 1_000, 2_000, 10_000, 3_000, 2_000, 3_000));
  }

  @Test
  void rejectsNonPositiveBounds() {
    assertThrows(IllegalArgumentException.class,
        () -> new SwarmConfig(30_000, 2, 0, 64, 4, 15_000, 1_000, 2_000, 5_000, 1_000, 2_000, 10_000, 3_000, 10_000, 3_000));
    assertThrows(IllegalArgumentException.class,
        () -> new SwarmConfig(-1, 2, 64, 64, 4, 15_000, 1_000, 2_000, 5_000, 1_000, 2_000, 10_000, 3_000, 10_000, 3_000));
  }
}
