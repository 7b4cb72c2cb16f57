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
    assertEquals(lan.suspicionConfirmations(), agent.suspicionConfirmations(), "the timer shrinks as fast");
    assertEquals(2, agent.suspicionConfirmations(), "not suspicionMult - 2 = 0: one accuser's word is not enough");
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
  void suspicionConfirmationsAreTheirOwnSettingWithinARange() {
    assertEquals(2, MembershipConfig.lan().suspicionConfirmations(), "memberlist's LAN: suspicionMult 4 - 2");
    assertEquals(4, MembershipConfig.wan().suspicionConfirmations(), "memberlist's WAN: suspicionMult 6 - 2");
    MembershipConfig lan = MembershipConfig.lan();
    assertEquals(2, lan.withSuspicionMult(9).suspicionConfirmations(), "no longer derived from suspicionMult");
    assertEquals(5, lan.withSuspicionConfirmations(5).suspicionConfirmations());
    assertEquals(0, lan.withSuspicionConfirmations(0).suspicionConfirmations());
    assertEquals(16, lan.withSuspicionConfirmations(16).suspicionConfirmations());
    IllegalArgumentException low = assertThrows(IllegalArgumentException.class, () -> lan.withSuspicionConfirmations(-1));
    assertEquals("suspicionConfirmations must be within [0, 16], not -1", low.getMessage());
    IllegalArgumentException high = assertThrows(IllegalArgumentException.class, () -> lan.withSuspicionConfirmations(17));
    assertEquals("suspicionConfirmations must be within [0, 16], not 17", high.getMessage());
  }

  @Test
  void rejectsProbeTimeoutNotBelowInterval() {
    assertThrows(IllegalArgumentException.class, () -> MembershipConfig.lan().withProbe(500, 500));
  }
}
