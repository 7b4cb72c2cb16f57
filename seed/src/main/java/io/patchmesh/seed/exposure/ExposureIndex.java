package io.patchmesh.seed.exposure;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.seed.AgentRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which hosts are exposed to which advisories, computed from three inputs: advisories (imported,
 * plus those only a manifest's --fixes names), the hosts' software inventories, and what each
 * host reports about the manifests that fix them. Every host lands in at most one state per
 * advisory:
 * <ul>
 *   <li>notReporting: no software inventory held, or not heard from for the stale period;
 *   <li>fixed: applied a manifest whose notice fixes it (and has an affected package installed);
 *   <li>inRollout: an affected version installed, a fixing manifest on its way to it (known,
 *       fetching, complete or waiting there);
 *   <li>exposed: an affected version installed, no fix applied or under way;
 *   <li>otherwise not affected (not counted).
 * </ul>
 */
public final class ExposureIndex {
  /** The state of one host for one advisory. */
  public enum HostState { EXPOSED, IN_ROLLOUT, FIXED, NOT_REPORTING, NOT_AFFECTED }

  /** Counts of hosts, for one advisory and one site (or all). */
  public static final class Counts {
    public int exposed;
    public int fixed;
    public int inRollout;
    public int notReporting;

    void add(HostState s) {
      switch (s) {
        case EXPOSED -> exposed++;
        case FIXED -> fixed++;
        case IN_ROLLOUT -> inRollout++;
        case NOT_REPORTING -> notReporting++;
        default -> { }
      }
    }
  }

  /** One advisory's exposure, whole fleet and per site, and the host ids still open. */
  public record Row(Advisory advisory, boolean fixPublished, Counts total, Map<String, Counts> sites, List<String> openHosts) {}

  private final SoftwareBoard software;
  private final long staleMillis;

  public ExposureIndex(SoftwareBoard software, long staleMillis) {
    this.software = software;
    this.staleMillis = staleMillis;
  }

  /** Advisories to match: the imported ones, plus one per CVE that only fix notices name. */
  public static List<Advisory> withNoticeOnly(List<Advisory> imported, List<FixNotices.Notice> notices) {
    List<Advisory> out = new ArrayList<>(imported);
    Map<String, Advisory> fromNotices = new LinkedHashMap<>();
    for (FixNotices.Notice n : notices) {
      for (String cve : n.cves()) {
        boolean known = out.stream().anyMatch(a -> a.isNamed(cve));
        if (known) {
          continue;
        }
        Advisory prev = fromNotices.get(cve.toUpperCase(java.util.Locale.ROOT));
        List<AffectedRange> affects = new ArrayList<>(prev == null ? List.of() : prev.affected());
        affects.addAll(n.affects());
        String sev = prev == null ? n.severity() : higher(prev.severity(), n.severity());
        fromNotices.put(cve.toUpperCase(java.util.Locale.ROOT), new Advisory(cve, List.of(), sev, "", affects, "manifest"));
      }
    }
    out.addAll(fromNotices.values());
    return out;
  }

  static String higher(String a, String b) {
    int ra = Advisory.SEVERITIES.indexOf(a) == 4 ? -1 : Advisory.SEVERITIES.indexOf(a);
    int rb = Advisory.SEVERITIES.indexOf(b) == 4 ? -1 : Advisory.SEVERITIES.indexOf(b);
    return ra >= rb ? a : b;
  }

  /** The exposure of each advisory over {@code agents}. */
  public List<Row> rows(List<Advisory> advisories, Collection<AgentRecord> agents, List<FixNotices.Notice> notices, long now) {
    List<Row> out = new ArrayList<>();
    for (Advisory a : advisories) {
      List<FixNotices.Notice> fixing = notices.stream().filter(n -> n.fixes(a)).toList();
      String severity = a.severity();
      for (FixNotices.Notice n : fixing) {
        severity = higher(severity, n.severity());
      }
      Advisory shown = severity.equals(a.severity()) ? a
          : new Advisory(a.id(), a.aliases(), severity, a.summary(), a.affected(), a.source());
      Counts total = new Counts();
      Map<String, Counts> sites = new TreeMap<>();
      List<String> open = new ArrayList<>();
      for (AgentRecord agent : agents) {
        HostState s = state(shown, fixing, agent, now);
        if (s == HostState.NOT_AFFECTED) {
          continue;
        }
        total.add(s);
        sites.computeIfAbsent(agent.site(), k -> new Counts()).add(s);
        if (s == HostState.EXPOSED || s == HostState.IN_ROLLOUT) {
          open.add(agent.nodeId());
        }
      }
      out.add(new Row(shown, !fixing.isEmpty(), total, sites, open));
    }
    return out;
  }

  /** The state of one host for one advisory. */
  public HostState state(Advisory a, List<FixNotices.Notice> fixing, AgentRecord agent, long now) {
    String host = agent.nodeId();
    if (!software.holds(host) || now - agent.receivedMillis() > staleMillis) {
      return HostState.NOT_REPORTING;
    }
    String source = software.source(host);
    boolean affected = false;
    boolean hasPackage = false;
    List<AffectedRange> ranges = new ArrayList<>(a.affected());
    for (FixNotices.Notice n : fixing) {
      ranges.addAll(n.affects());
    }
    for (AffectedRange r : ranges) {
      String v = software.version(host, r.name());
      if (v == null) {
        continue;
      }
      hasPackage = true;
      if (r.affects(v, source)) {
        affected = true;
      }
    }
    boolean applied = false;
    boolean underWay = false;
    for (FixNotices.Notice n : fixing) {
      ManifestStatus st = agent.manifests().get(n.manifestId());
      if (st == null) {
        continue;
      }
      ManifestPhase p = st.getPhase();
      if (p == ManifestPhase.PHASE_APPLIED) {
        applied = true;
      } else if (p == ManifestPhase.PHASE_KNOWN || p == ManifestPhase.PHASE_FETCHING
          || p == ManifestPhase.PHASE_COMPLETE || p == ManifestPhase.PHASE_WAITING || p == ManifestPhase.PHASE_APPLYING) {
        underWay = true;
      }
    }
    if (applied && (affected || hasPackage)) {
      return HostState.FIXED;
    }
    if (!affected) {
      return HostState.NOT_AFFECTED;
    }
    return underWay ? HostState.IN_ROLLOUT : HostState.EXPOSED;
  }
}
