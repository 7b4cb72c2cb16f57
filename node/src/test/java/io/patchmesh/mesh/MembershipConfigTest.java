package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MembershipConfigTest {
  @Test
  void lanPresetMatchesMemberlistDefaults() {
    MembershipConfig lan = MembershipConfig.lan();
    assertEquals(1_000, lan.probeIntervalMillis());
    assertEquals(500, lan.probeTimeoutMillis());
    assertEquals(3, lan.indirectChecks());
    assertEquals(200, lan.gossipIntervalMillis());
    assertEquals(3, lan.gossipFanout());
    assertEquals(16_000, lan.suspicionMinMillis(10_000), "memberlist's ~16 s at 10,000 nodes");
    assertEquals(96_000, lan.suspicionMaxMillis(10_000));
    assertEquals(4_000, lan.suspicionMinMillis(3), "never below suspicionMult probe intervals");
  }

  @Test
  void agentPresetProbesHalfAsOftenWithLansSuspicionTimers() {
    MembershipConfig lan = MembershipConfig.lan();
    MembershipConfig agent = MembershipConfig.lanAgent();
    assertEquals(2_000, agent.probeIntervalMillis());
    assertEquals(lan.probeTimeoutMillis(), agent.probeTimeoutMillis());
    for (int n : new int[] {3, 10, 100, 1_000, 10_000}) {
      assertEquals(lan.suspicionMinMillis(n), agent.suspicionMinMillis(n), "suspicion minimum at " + n);
      assertEquals(lan.suspicionMaxMillis(n), agent.suspicionMaxMillis(n), "suspicion maximum at " + n);
    }
    assertEquals(lan.gossipIntervalMillis(), agent.gossipIntervalMillis(), "news spreads as fast");
    assertEquals(lan.pushPullIntervalMillis(100), agent.pushPullIntervalMillis(100));
  }

  @Test
  void wanPresetIsSlowerAndMoreTolerant() {
    MembershipConfig wan = MembershipConfig.wan();
    assertEquals(5_000, wan.probeIntervalMillis());
    assertEquals(3_000, wan.probeTimeoutMillis());
    assertEquals(4, wan.gossipFanout());
    assertEquals(6, wan.suspicionMult());
  }

  @Test
  void pushPullIntervalStretchesForLargeClusters() {
    MembershipConfig lan = MembershipConfig.lan();
    assertEquals(30_000, lan.pushPullIntervalMillis(32));
    assertEquals(300_000, lan.pushPullIntervalMillis(10_000));
  }

  @Test
  void rejectsProbeTimeoutNotBelowInterval() {
    assertThrows(IllegalArgumentException.class, () -> MembershipConfig.lan().withProbe(500, 500));
  }
}
