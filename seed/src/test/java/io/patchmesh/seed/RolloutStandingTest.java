package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How an agent counts in a rollout's view, from the seed's own link and the agent's own reports. */
class RolloutStandingTest {
  static final long T = 1_000_000_000L;

  static AgentRecord heardAt(long millis) {
    return new AgentRecord("ab".repeat(32), "site-a", 1, millis, Map.of(), HostFacts.getDefaultInstance());
  }

  static ManifestStatus phase(ManifestPhase p) {
    return ManifestStatus.newBuilder().setPhase(p).build();
  }

  @Test
  void aLinkedAgentIsHeardHoweverOldItsLastReport() {
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(heardAt(T - 3_600_000), MemberStatus.ALIVE, phase(ManifestPhase.PHASE_FETCHING), true, T));
  }

  @Test
  void aSilentAgentThatHadNotAppliedItStaysTargetedAsUnheard() {
    long silent = RolloutStanding.UNHEARD_AFTER_MILLIS + 1;
    for (ManifestStatus st : new ManifestStatus[] {null, phase(ManifestPhase.PHASE_KNOWN), phase(ManifestPhase.PHASE_FETCHING),
        phase(ManifestPhase.PHASE_WAITING), phase(ManifestPhase.PHASE_FAILED)}) {
      RolloutStanding s = RolloutStanding.of(heardAt(T - silent), MemberStatus.DEAD, st, false, T);
      assertEquals(RolloutStanding.UNHEARD, s, "last report " + st);
      assertTrue(s.counted(), "an unheard agent is still targeted");
    }
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(heardAt(T - RolloutStanding.UNHEARD_AFTER_MILLIS), MemberStatus.SUSPECT,
        phase(ManifestPhase.PHASE_FETCHING), false, T), "a report within the last 15 s is enough");
  }

  @Test
  void aSilentAgentWhoseLastReportSettledItCountsByThatReport() {
    long silent = RolloutStanding.OFFLINE_AFTER_MILLIS + 1;
    assertEquals(RolloutStanding.SETTLED, RolloutStanding.of(heardAt(T - silent), null, phase(ManifestPhase.PHASE_APPLIED), false, T));
    assertEquals(RolloutStanding.SETTLED, RolloutStanding.of(heardAt(T - 20_000), null, phase(ManifestPhase.PHASE_NOT_TARGETED), false, T));
    assertTrue(RolloutStanding.SETTLED.counted());
  }

  @Test
  void onlyADayOfSilenceLeavesAnAgentOutAsOffline() {
    RolloutStanding s = RolloutStanding.of(heardAt(T - RolloutStanding.OFFLINE_AFTER_MILLIS - 1), MemberStatus.ALIVE,
        phase(ManifestPhase.PHASE_WAITING), false, T);
    assertEquals(RolloutStanding.OFFLINE, s);
    assertFalse(s.counted());
    assertEquals(RolloutStanding.UNHEARD, RolloutStanding.of(heardAt(T - RolloutStanding.OFFLINE_AFTER_MILLIS), MemberStatus.ALIVE,
        phase(ManifestPhase.PHASE_WAITING), false, T));
  }

  @Test
  void anAgentThatNeverReportedHereIsPendingUnlessThisSeedSeesItDeadOrLeft() {
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(null, MemberStatus.ALIVE, null, false, T));
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(null, MemberStatus.SUSPECT, null, false, T));
    assertEquals(RolloutStanding.GONE, RolloutStanding.of(null, MemberStatus.DEAD, null, false, T));
    assertEquals(RolloutStanding.GONE, RolloutStanding.of(null, MemberStatus.LEFT, null, false, T));
    assertFalse(RolloutStanding.GONE.counted());
  }

  @Test
  void anAgentSilentSinceItReportedApplyingIsNamedApartAndNeverLeftOut() {
    ManifestStatus applying = phase(ManifestPhase.PHASE_APPLYING);
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(heardAt(T - RolloutStanding.UNHEARD_AFTER_MILLIS), MemberStatus.ALIVE,
        applying, false, T));
    assertEquals(RolloutStanding.HEARD, RolloutStanding.of(heardAt(T - 3_600_000), MemberStatus.ALIVE, applying, true, T),
        "a linked agent whose install runs long is heard");
    RolloutStanding s = RolloutStanding.of(heardAt(T - RolloutStanding.UNHEARD_AFTER_MILLIS - 1), MemberStatus.DEAD, applying, false, T);
    assertEquals(RolloutStanding.SILENT_APPLYING, s);
    assertTrue(s.counted(), "it stays targeted");
    assertEquals(RolloutStanding.SILENT_APPLYING, RolloutStanding.of(heardAt(T - RolloutStanding.OFFLINE_AFTER_MILLIS - 1),
        MemberStatus.LEFT, applying, false, T), "a day of silence does not make a casualty an offline laptop");
  }
}
