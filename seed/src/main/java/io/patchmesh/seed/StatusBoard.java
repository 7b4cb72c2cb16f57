package io.patchmesh.seed;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.StatusReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.codec.binary.Hex;

/**
 * What a seed knows about every agent's progress: the newest {@link
 * StatusReport} per agent (stale sequence numbers are dropped), from which
 * the rollout, compliance and inventory views answer "which agents in which
 * sites have manifest X". Agents report to seeds
 * only, so this is O(agents), not O(agents²). Thread-safe.
 */
public final class StatusBoard {
  /** Bound on agents tracked, so a flood of forged node ids cannot exhaust memory. */
  public static final int MAX_AGENTS = 100_000;
  /** Bound on manifests per report. */
  public static final int MAX_MANIFESTS_PER_REPORT = 256;

  private final Map<String, AgentRecord> agents = new ConcurrentHashMap<>();

  /** Records a report; returns false if it was stale or out of bounds. */
  public boolean accept(StatusReport report, long nowMillis) {
    if (report.getNodeId().size() != 32 || report.getManifestsCount() > MAX_MANIFESTS_PER_REPORT) {
      return false;
    }
    String id = Hex.encodeHexString(report.getNodeId().toByteArray());
    AgentRecord prev = agents.get(id);
    if (prev == null && agents.size() >= MAX_AGENTS) {
      return false;
    }
    if (prev != null && prev.sequence() >= report.getSequence()) {
      return false;
    }
    Map<String, ManifestStatus> ms = new LinkedHashMap<>();
    for (ManifestStatus s : report.getManifestsList()) {
      ms.put(Hex.encodeHexString(s.getManifestId().toByteArray()), s);
    }
    agents.put(
        id,
        new AgentRecord(id, report.getSite(), report.getSequence(), nowMillis, Map.copyOf(ms), report.getFacts()));
    return true;
  }

  public Collection<AgentRecord> agents() {
    List<AgentRecord> list = new ArrayList<>(agents.values());
    list.sort(Comparator.comparing(AgentRecord::site).thenComparing(AgentRecord::nodeId));
    return list;
  }

  /** The state words the CLI, API and dashboard show. */
  public static String phaseName(ManifestPhase p) {
    return switch (p) {
      case PHASE_KNOWN -> "known";
      case PHASE_FETCHING -> "fetching";
      case PHASE_COMPLETE -> "complete";
      case PHASE_WAITING -> "waiting";
      case PHASE_APPLIED -> "applied";
      case PHASE_FAILED -> "failed";
      case PHASE_NOT_TARGETED -> "not-targeted";
      case PHASE_APPLYING -> "applying";
      default -> "unknown";
    };
  }
}
