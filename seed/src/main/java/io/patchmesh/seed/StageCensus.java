package io.patchmesh.seed;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.seed.cluster.StageTally;
import java.util.Collection;
import java.util.HashSet;
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
    StageTally.Builder b = new StageTally.Builder(stage);
    int silentApplying = 0;
    Set<NodeId> reported = new HashSet<>();
    for (AgentRecord a : reports) {
      NodeId agent = NodeId.fromHex(a.nodeId());
      reported.add(agent);
      ManifestStatus st = a.manifests().get(manifestHex);
      StageCount c = StageCount.of(st == null ? null : st.getPhase(), linked.containsKey(agent), nowMillis - a.receivedMillis());
      if (c == StageCount.LEFT_OUT || !admitted.test(agent)) {
        continue;
      }
      if (c == StageCount.SILENT_APPLYING) {
        silentApplying++;
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
    return new RolloutController.OwnTally(b.build(), silentApplying);
  }
}
