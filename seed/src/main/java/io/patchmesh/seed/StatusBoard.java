package io.patchmesh.seed;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.StatusReport;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.codec.binary.Hex;

/**
 * What a seed knows about every agent's progress: the newest {@link
 * StatusReport} per agent (stale sequence numbers are dropped), and views that
 * answer "which agents in which sites have manifest X". Agents report to seeds
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

  /** Per-site progress of one manifest (hex id). */
  public record SiteProgress(
      String site,
      int agents,
      int targeted,
      int complete,
      int applied,
      int failed,
      long chunksHave,
      long chunksTotal,
      long bytesLan,
      long bytesWan) {}

  /** One agent's line in a rollout view. */
  public record AgentProgress(
      String id, String site, String state, int chunksHave, int chunksTotal, long bytesLan, long bytesWan, String reason) {}

  /** The rollout view of one manifest: per site, per agent. */
  public record Rollout(String manifestId, List<SiteProgress> sites, List<AgentProgress> agents) {
    public int targeted() {
      return sites.stream().mapToInt(SiteProgress::targeted).sum();
    }

    public int applied() {
      return sites.stream().mapToInt(SiteProgress::applied).sum();
    }

    public int failed() {
      return sites.stream().mapToInt(SiteProgress::failed).sum();
    }
  }

  public Rollout rollout(String manifestHex) {
    Map<String, int[]> counts = new TreeMap<>();
    Map<String, long[]> sums = new HashMap<>();
    List<AgentProgress> rows = new ArrayList<>();
    for (AgentRecord a : agents()) {
      int[] c = counts.computeIfAbsent(a.site(), s -> new int[5]);
      long[] s = sums.computeIfAbsent(a.site(), x -> new long[4]);
      c[0]++;
      ManifestStatus st = a.manifests().get(manifestHex);
      if (st == null) {
        c[1]++; // targeted by default; unknown yet
        rows.add(new AgentProgress(a.nodeId(), a.site(), "missing", 0, 0, 0, 0, ""));
        continue;
      }
      ManifestPhase p = st.getPhase();
      if (p != ManifestPhase.PHASE_NOT_TARGETED) {
        c[1]++;
      }
      if (p == ManifestPhase.PHASE_COMPLETE || p == ManifestPhase.PHASE_WAITING || p == ManifestPhase.PHASE_APPLIED) {
        c[2]++;
      }
      if (p == ManifestPhase.PHASE_APPLIED) {
        c[3]++;
      }
      if (p == ManifestPhase.PHASE_FAILED) {
        c[4]++;
      }
      s[0] += st.getChunksHave();
      s[1] += st.getChunksTotal();
      s[2] += st.getBytesLan();
      s[3] += st.getBytesWan();
      rows.add(
          new AgentProgress(
              a.nodeId(),
              a.site(),
              phaseName(p),
              st.getChunksHave(),
              st.getChunksTotal(),
              st.getBytesLan(),
              st.getBytesWan(),
              st.getReason()));
    }
    List<SiteProgress> sites = new ArrayList<>();
    counts.forEach(
        (site, c) -> {
          long[] s = sums.get(site);
          sites.add(new SiteProgress(site, c[0], c[1], c[2], c[3], c[4], s[0], s[1], s[2], s[3]));
        });
    return new Rollout(manifestHex, sites, rows);
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
      default -> "unknown";
    };
  }
}
