package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Rollout;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.StageTally;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Who a seed counts in a stage, on virtual time: an admitted agent linked to the seed that has not
 * reported yet is pending under its link's site, so the first stage does not open on the others'
 * reports right after a publish; it stops holding the stage when it reports (then it counts by its
 * report) or when its link goes away. One linked but not admitted to the stage is not counted.
 */
class StageCensusTest {
  static final String MANIFEST = "ab".repeat(32);
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(10).addStagePercent(100).build();
  static final NodeId CANARY = node(1);
  static final NodeId LATE = node(2);
  static final NodeId OUTSIDER = node(3);
  /** The canaries of stage 1; the outsider is linked but its admission value is over the stage's share. */
  static final Predicate<NodeId> ADMITTED = Set.of(CANARY, LATE)::contains;

  static NodeId node(int n) {
    byte[] b = new byte[32];
    b[0] = (byte) n;
    return NodeId.of(b);
  }

  static AgentRecord report(NodeId id, String site, long seq, long receivedMillis, ManifestPhase phase) {
    Map<String, ManifestStatus> ms = phase == null ? Map.of()
        : Map.of(MANIFEST, ManifestStatus.newBuilder().setPhase(phase).build());
    return new AgentRecord(id.hex(), site, seq, receivedMillis, ms, HostFacts.getDefaultInstance());
  }

  static StageTally tally(List<AgentRecord> board, Map<NodeId, String> linked, long now) {
    return StageCensus.count(0, MANIFEST, board, linked, ADMITTED, now).tally();
  }

  @Test
  void aLinkedCanaryWithNoReportHoldsItsStageUntilItReports() {
    long t = 1_000_000L;
    List<AgentRecord> board = new ArrayList<>(List.of(report(CANARY, "site-a", 1, t, ManifestPhase.PHASE_APPLIED)));
    Map<NodeId, String> linked = new HashMap<>(Map.of(CANARY, "site-a", LATE, "site-b", OUTSIDER, "site-c"));
    RolloutRecord r = RolloutRecord.initial();

    StageTally held = tally(board, linked, t);
    assertEquals(2, held.admitted(), "the late canary counts, the outsider (not admitted) does not: " + held);
    assertEquals(1, held.applied());
    assertEquals(0, held.failed(), "pending, not failed");
    assertEquals(new StageTally.Count(1, 0, 0), held.sites().get("site-b"), "under its link's site: " + held);
    assertEquals(null, held.sites().get("site-c"));
    assertSame(r, RolloutJudge.next(PLAN, r, held, false, t), "stage 1 does not open on the other canary's report");

    // linked, never reporting: it holds the stage as long as it is linked, like a linked agent whose
    // report is old (StageCount: linked is pending however long); the urgent rhythm still opens
    long later = t + 3_600_000;
    assertSame(r, RolloutJudge.next(PLAN, r, tally(board, linked, later), false, later));
    assertEquals(1, RolloutJudge.next(PLAN, r, tally(board, linked, later), true, later).stage());

    // its first report does not list the manifest yet: counted once, by its report, still pending
    board.add(report(LATE, "site-b", 1, later, null));
    StageTally reported = tally(board, linked, later);
    assertEquals(2, reported.admitted(), "not counted twice: " + reported);
    assertSame(r, RolloutJudge.next(PLAN, r, reported, false, later));

    board.set(1, report(LATE, "site-b", 2, later + 5_000, ManifestPhase.PHASE_APPLIED));
    StageTally done = tally(board, linked, later + 5_000);
    assertEquals(2, done.applied(), done.toString());
    assertEquals(1, RolloutJudge.next(PLAN, r, done, false, later + 5_000).stage(), "both applied: the next stage opens");
  }

  @Test
  void aCanaryWhoseLinkWentAwayBeforeItsFirstReportNoLongerHoldsTheStage() {
    long t = 2_000_000L;
    List<AgentRecord> board = List.of(report(CANARY, "site-a", 1, t, ManifestPhase.PHASE_APPLIED));
    Map<NodeId, String> linked = new HashMap<>(Map.of(CANARY, "site-a", LATE, "site-b"));
    RolloutRecord r = RolloutRecord.initial();
    assertSame(r, RolloutJudge.next(PLAN, r, tally(board, linked, t), false, t));

    linked.remove(LATE);
    StageTally after = tally(board, linked, t + 1_000);
    assertEquals(1, after.admitted(), "no report to time its silence by: unlinked, it is not counted: " + after);
    assertEquals(1, RolloutJudge.next(PLAN, r, after, false, t + 1_000).stage());
    assertEquals(StageCount.LEFT_OUT, StageCount.unreported(false));
    assertEquals(StageCount.PENDING, StageCount.unreported(true));
  }

  @Test
  void aStageWhoseOnlyCanaryIsLinkedButUnreportedIsNotEmpty() {
    long t = 3_000_000L;
    StageTally only = tally(List.of(), Map.of(LATE, "site-b", OUTSIDER, "site-c"), t);
    assertEquals(1, only.admitted(), "not an empty stage (the controller's empty-stage grace is not what holds it): " + only);
    RolloutRecord r = RolloutRecord.initial();
    assertSame(r, RolloutJudge.next(PLAN, r, only, false, t + RolloutController.EMPTY_STAGE_GRACE_MILLIS + 60_000));
    StageTally none = tally(List.of(), Map.of(OUTSIDER, "site-c"), t);
    assertEquals(0, none.admitted(), "a linked agent outside the stage is not counted: " + none);
  }

  @Test
  void reportedAgentsCountAsStageCountSays() {
    long t = 4_000_000L;
    List<AgentRecord> board = List.of(
        report(CANARY, "site-a", 1, t, ManifestPhase.PHASE_APPLYING),
        report(LATE, "site-b", 1, t, ManifestPhase.PHASE_WAITING));
    RolloutController.OwnTally c = StageCensus.count(0, MANIFEST, board, Map.of(), ADMITTED, t + StageCount.GONE_AFTER_MILLIS + 1);
    assertEquals(1, c.tally().admitted(), "the waiting one left, the silent applying one stayed: " + c);
    assertEquals(1, c.tally().failed());
    assertEquals(1, c.silentApplying());
  }
}
