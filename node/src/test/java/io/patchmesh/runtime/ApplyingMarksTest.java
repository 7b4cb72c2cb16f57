package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.ManifestPhase;
import org.junit.jupiter.api.Test;

/** What an agent reports for an apply an earlier life of it left in progress. */
class ApplyingMarksTest {
  @Test
  void aCommittedApplyIsReportedAppliedAnyOtherAsInterrupted() {
    assertEquals(ManifestPhase.PHASE_APPLIED, ApplyingMarks.afterCrash(true, "fleet/x version 3 had committed; cleaned up").phase());

    ApplyingMarks.AfterCrash rolledBack = ApplyingMarks.afterCrash(false, "fleet/x version 3 was interrupted; rolled back to the previous files");
    assertEquals(ManifestPhase.PHASE_FAILED, rolledBack.phase());
    assertTrue(rolledBack.reason().startsWith("interrupted while applying"), rolledBack.reason());
    assertTrue(rolledBack.reason().contains("rolled back to the previous files"), rolledBack.reason());

    ApplyingMarks.AfterCrash before = ApplyingMarks.afterCrash(false, null);
    assertEquals(ManifestPhase.PHASE_FAILED, before.phase());
    assertTrue(before.reason().contains("the previous files stay"), before.reason());
    assertTrue(before.reason().length() <= 512, "fits a report's reason");
  }
}
