package io.patchmesh.seed;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.seed.cluster.ApplyingVouches.Heard;
import io.patchmesh.seed.cluster.StageTally;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Who a seed counts in one stage of one rollout, and how ({@link StageCount}), from what it
 * observed itself: the agents on its report board, and the agents linked to it that have sent no
 * report yet. No I/O, no clock of its own.
 *
 * <p>A linked agent with no report counts as pending under the site of its link (with TLS the
 * certificate permits it; the site its reports would be filed under, see FrameRouter): right after
 * a publish, or while an agent's first report is slow, the stage must not open on the reports of
 * the others. It stops counting when it reports (then by its report) or when its link goes away.
 *
 * <p>In a cluster, an agent this seed counts as silent while applying counts as the other seeds
 * that still hear from it say ({@link StageVouching}); with no such seed (or alone) as failed.
 */
final class StageCensus {
  private StageCensus() {}

  /**
   * @param stage the stage tallied
   * @param manifestHex the manifest (hex id)
   * @param reports the latest report of every agent on this seed's board
   * @param linked the agents (not seeds) this seed has a link to now, with each link's site
   * @param admitted whether an agent is admitted to {@code stage} (its admission value is under the stage's share)
   * @param nowMillis this seed's clock
   */
  static RolloutController.OwnTally count(int stage, String manifestHex, Collection<AgentRecord> reports,
      Map<NodeId, String> linked, Predicate<NodeId> admitted, long nowMillis) {
    return count(stage, manifestHex, reports, linked, admitted, Map.of(), nowMillis);
  }

  /**
   * As above, in a cluster.
   *
   * @param vouched agents (hex ids) other live seeds of the cluster hear from, and how they count them
   */
  static RolloutController.OwnTally count(int stage, String manifestHex, Collection<AgentRecord> reports,
      Map<NodeId, String> linked, Predicate<NodeId> admitted, Map<String, Heard> vouched, long nowMillis) {
    StageTally.Builder b = new StageTally.Builder(stage);
    int silentApplying = 0;
    int vouchedFor = 0;
    List<StageVouching.Candidate> candidates = new ArrayList<>();
    Set<NodeId> reported = new HashSet<>();
    for (AgentRecord a : reports) {
      NodeId agent = NodeId.fromHex(a.nodeId());
      reported.add(agent);
      ManifestStatus st = a.manifests().get(manifestHex);
      long silent = nowMillis - a.receivedMillis();
      boolean isLinked = linked.containsKey(agent);
      StageCount c = StageCount.of(st == null ? null : st.getPhase(), isLinked, silent);
      if (c == StageCount.LEFT_OUT || !admitted.test(agent)) {
        continue;
      }
      if (StageVouching.candidate(st == null ? null : st.getPhase(), isLinked, silent)) {
        candidates.add(new StageVouching.Candidate(a.nodeId(), silent));
      }
      if (c == StageCount.SILENT_APPLYING) {
        Heard v = vouched.get(a.nodeId());
        if (v == null) {
          silentApplying++;
        } else {
          vouchedFor++;
          c = StageVouching.counted(c, v);
        }
      }
      b.add(a.site(), c == StageCount.APPLIED, c.failed());
    }
    for (Map.Entry<NodeId, String> l : linked.entrySet()) {
      if (reported.contains(l.getKey()) || !admitted.test(l.getKey())) {
        continue;
      }
      StageCount c = StageCount.unreported(true);
      if (c == StageCount.LEFT_OUT) {
        continue;
      }
      b.add(l.getValue(), c == StageCount.APPLIED, c.failed());
    }
    return new RolloutController.OwnTally(b.build(), silentApplying, vouchedFor, StageVouching.published(candidates));
  }
}
