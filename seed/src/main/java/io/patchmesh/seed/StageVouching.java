package io.patchmesh.seed;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.seed.cluster.ApplyingVouches;
import io.patchmesh.seed.cluster.ApplyingVouches.Heard;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * In a cluster of seeds, whether an agent one seed counts as silent while applying ({@link
 * StageCount#SILENT_APPLYING}: failed) is silent to the whole cluster or only to that seed. Agents
 * report to every seed they are linked to, so an agent that lost its link to seed A while it still
 * reports to seed B is alive: A counts it as B does (pending, applied or failed) when B vouches for
 * it, and as failed only when no other live seed heard from it within the gone window (a link, or
 * a report within {@link StageCount#GONE_AFTER_MILLIS}). No I/O, no clock of its own.
 *
 * <p>A seed names its candidates before they count as failed: an admitted agent whose latest report
 * here says applying and that has no link here, or has sent nothing for {@link
 * #CANDIDATE_AFTER_MILLIS} (a link that is open but carries nothing), so the other seeds' answer (two
 * publishes and two ticks, about 6 s with the defaults) is in before the gone window ends. A seed
 * vouches only from what it observed itself, never from another seed's vouch.
 */
final class StageVouching {
  private StageVouching() {}

  /** An applying agent silent here this long, even over an open link, is named to the other seeds. */
  static final long CANDIDATE_AFTER_MILLIS = StageCount.GONE_AFTER_MILLIS / 2;

  /** One of this seed's candidates: its id (hex) and how long this seed has not heard from it. */
  record Candidate(String id, long silentMillis) {}

  /** Whether an admitted agent is one of this seed's candidates. */
  static boolean candidate(ManifestPhase phase, boolean linked, long silentMillis) {
    return phase == ManifestPhase.PHASE_APPLYING && (!linked || silentMillis > CANDIDATE_AFTER_MILLIS);
  }

  /**
   * The candidates this seed publishes: longest silent first (a listed one keeps its place while
   * newer ones queue behind it), at most {@link ApplyingVouches#MAX_IDS}; the rest count without vouching.
   */
  static List<String> published(List<Candidate> candidates) {
    return candidates.stream()
        .sorted(Comparator.comparingLong(Candidate::silentMillis).reversed().thenComparing(Candidate::id))
        .limit(ApplyingVouches.MAX_IDS)
        .map(Candidate::id)
        .toList();
  }

  /**
   * Which of the other seeds' candidates this seed hears from (linked now, or a report within the
   * gone window), each with how this seed's latest report of it counts: applied, failed, else
   * pending. In the others' order (seed by seed, each one's priority), at most {@link ApplyingVouches#MAX_IDS}.
   *
   * @param others the other live seeds' entries
   * @param board this seed's latest report per agent (hex id)
   * @param linked the agents (hex ids) this seed has a link to now
   */
  static Map<String, Heard> heard(List<ApplyingVouches> others, Map<String, AgentRecord> board, Set<String> linked,
      String manifestHex, long nowMillis) {
    Map<String, Heard> out = new LinkedHashMap<>();
    for (ApplyingVouches v : others) {
      for (String id : v.candidates()) {
        if (out.size() >= ApplyingVouches.MAX_IDS) {
          return out;
        }
        if (out.containsKey(id)) {
          continue;
        }
        AgentRecord r = board.get(id);
        boolean heard = linked.contains(id) || r != null && nowMillis - r.receivedMillis() <= StageCount.GONE_AFTER_MILLIS;
        if (heard) {
          ManifestStatus st = r == null ? null : r.manifests().get(manifestHex);
          ManifestPhase p = st == null ? null : st.getPhase();
          out.put(id, p == ManifestPhase.PHASE_APPLIED ? Heard.APPLIED : p == ManifestPhase.PHASE_FAILED ? Heard.FAILED : Heard.PENDING);
        }
      }
    }
    return out;
  }

  /** How an agent counts here given what the other seeds vouch ({@code null}: nobody heard from it). */
  static StageCount counted(StageCount here, Heard vouched) {
    if (here != StageCount.SILENT_APPLYING || vouched == null) {
      return here;
    }
    return switch (vouched) {
      case APPLIED -> StageCount.APPLIED;
      case FAILED -> StageCount.FAILED;
      case PENDING -> StageCount.PENDING;
    };
  }

  /** Convenience for callers holding the board as a collection. */
  static Map<String, AgentRecord> byId(Iterable<AgentRecord> board) {
    Map<String, AgentRecord> m = new LinkedHashMap<>();
    board.forEach(a -> m.put(a.nodeId(), a));
    return m;
  }
}
