package io.patchmesh.seed.exposure;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Severity;
import org.junit.jupiter.api.Test;

class StageRhythmTest {
  @Test
  void onlyUrgentRolloutsOpenTheNextStageBeforeEveryAdmittedAgentFinished() {
    StageRhythm r = new StageRhythm(60_000);
    Manifest normal = Manifest.newBuilder().setChannel("c").build();
    Manifest fixes = Manifest.newBuilder().setFixes(FixNotice.newBuilder().addCves("CVE-1").setSeverity(Severity.SEVERITY_HIGH)).build();
    Manifest urgent = Manifest.newBuilder().setFixes(FixNotice.newBuilder().addCves("CVE-1").setUrgent(true)).build();
    assertFalse(r.opensEarly(normal, 0, 3_600_000), "a normal rollout waits for its stage however long");
    assertFalse(r.opensEarly(fixes, 0, 3_600_000), "a non-urgent fix too");
    assertFalse(r.opensEarly(urgent, 0, 59_999));
    assertTrue(r.opensEarly(urgent, 0, 60_000));
  }
}
