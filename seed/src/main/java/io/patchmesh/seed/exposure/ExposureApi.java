package io.patchmesh.seed.exposure;

import io.patchmesh.admin.AdminRequest;
import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import io.patchmesh.seed.AgentRecord;
import io.patchmesh.seed.StatusBoard;
import io.patchmesh.runtime.NodeRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The seed's vulnerability views: software inventory per host, advisory import and listing, and
 * exposure per CVE and per host; Prometheus gauges of exposed hosts by severity and of refused
 * inventories.
 */
public final class ExposureApi {
  /** A host not heard from for this long is "not reporting" (as compliance calls it stale). */
  public static final long STALE_MILLIS = 10 * 60_000;
  /** Exposure gauges are recomputed at most this often (a scrape must not redo 10k hosts each time). */
  static final long METRICS_CACHE_MILLIS = 15_000;

  private final NodeRuntime node;
  private final StatusBoard board;
  private final SoftwareBoard software;
  private final AdvisoryStore advisories;
  private final FixNotices notices;
  private final ExposureIndex index;
  private volatile Map<String, Integer> exposedBySeverity = Map.of();
  private volatile long exposedComputedMillis = Long.MIN_VALUE / 2;

  public ExposureApi(NodeRuntime node, StatusBoard board, SoftwareBoard software, AdvisoryStore advisories) {
    this.node = node;
    this.board = board;
    this.software = software;
    this.advisories = advisories;
    this.notices = new FixNotices(node.store().manifests());
    this.index = new ExposureIndex(software, STALE_MILLIS);
    for (String sev : List.of("low", "medium", "high", "critical", "unknown")) {
      node.metrics().gauge("patchmesh.exposed.hosts", "hosts with an affected version installed and no fix applied, by advisory severity",
          () -> exposedGauge().getOrDefault(sev, 0), "severity", sev);
    }
    for (String reason : software.refused().keySet()) {
      node.metrics().gauge("patchmesh.inventory.refused", "software inventory updates refused, by reason",
          () -> software.refused().get(reason), "reason", reason);
    }
    node.metrics().gauge("patchmesh.inventory.hosts", "hosts whose software inventory the seed holds",
        () -> software.hosts().stream().filter(SoftwareBoard.HostView::held).count());
  }

  public void addRoutes(AdminRouter r) {
    r.get("/api/v1/inventory/software", this::inventory);
    r.post("/api/v1/advisories", this::importAdvisories);
    r.get("/api/v1/advisories", this::listAdvisories);
    r.get("/api/v1/exposure", this::exposure);
    r.get("/api/v1/exposure/hosts", this::hostExposure);
  }

  private Map<String, Integer> exposedGauge() {
    long now = node.options().clock().millis();
    if (now - exposedComputedMillis > METRICS_CACHE_MILLIS) {
      Map<String, java.util.Set<String>> hosts = new HashMap<>();
      for (ExposureIndex.Row row : rows(now)) {
        hosts.computeIfAbsent(row.advisory().severity(), k -> new java.util.HashSet<>()).addAll(row.openHosts());
      }
      Map<String, Integer> m = new HashMap<>();
      hosts.forEach((k, v) -> m.put(k, v.size()));
      exposedBySeverity = m;
      exposedComputedMillis = now;
    }
    return exposedBySeverity;
  }

  private List<ExposureIndex.Row> rows(long now) {
    List<FixNotices.Notice> ns = notices.all();
    return index.rows(ExposureIndex.withNoticeOnly(advisories.all(), ns), board.agents(), ns, now);
  }

  private AdminResponse inventory(AdminRequest req) {
    Optional<String> pkg = req.queryParam("package");
    Optional<String> site = req.queryParam("site");
    long now = node.options().clock().millis();
    Map<String, SoftwareBoard.HostView> views = new HashMap<>();
    for (SoftwareBoard.HostView v : software.hosts()) {
      views.put(v.nodeId(), v);
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (AgentRecord a : board.agents()) {
      if (site.isPresent() && !site.get().equals(a.site())) {
        continue;
      }
      SoftwareBoard.HostView v = views.get(a.nodeId());
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", a.nodeId());
      row.put("site", a.site());
      row.put("hostname", a.facts().getHostname());
      row.put("source", v == null ? "" : v.source());
      row.put("packages", v == null || !v.held() ? 0 : v.packages());
      row.put("generation", v == null ? 0 : v.generation());
      row.put("error", v == null ? "no software inventory reported" : v.error());
      row.put("reported", v != null && v.held());
      row.put("lastSeenSecondsAgo", Math.max(0, (now - a.receivedMillis()) / 1000));
      if (pkg.isPresent()) {
        String ver = software.version(a.nodeId(), pkg.get());
        if (ver == null) {
          continue;
        }
        row.put("package", pkg.get());
        row.put("version", ver);
      }
      out.add(row);
    }
    return AdminResponse.json(Map.of("hosts", out));
  }

  private AdminResponse importAdvisories(AdminRequest req) {
    List<Advisory> parsed;
    try {
      parsed = OsvParser.parse(req.body());
    } catch (OsvFormatException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    try {
      advisories.putAll(parsed);
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    } catch (AdvisoryStore.UnavailableException e) {
      throw new AdminResponse.Failure(503, "advisories are not stored now: " + e.getMessage());
    }
    exposedComputedMillis = Long.MIN_VALUE / 2;
    List<Map<String, Object>> notUnderstood = new ArrayList<>();
    for (Advisory a : parsed) {
      for (AffectedRange r : a.affected()) {
        if (!r.understood()) {
          notUnderstood.add(Map.of("id", a.id(), "package", r.name(), "why", "range not understood: " + r.why()));
        }
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("imported", parsed.size());
    out.put("held", advisories.size());
    out.put("notUnderstood", notUnderstood);
    return AdminResponse.json(out);
  }

  private AdminResponse listAdvisories(AdminRequest req) {
    List<FixNotices.Notice> ns = notices.all();
    List<Map<String, Object>> out = new ArrayList<>();
    for (Advisory a : ExposureIndex.withNoticeOnly(advisories.all(), ns)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", a.id());
      m.put("aliases", a.aliases());
      m.put("severity", a.severity());
      m.put("source", a.source());
      m.put("packages", a.affected().stream().map(AffectedRange::name).distinct().toList());
      m.put("rangesUnderstood", a.rangesUnderstood());
      m.put("notUnderstood", a.affected().stream().filter(r -> !r.understood()).map(r -> "range not understood: " + r.why()).toList());
      m.put("fixedBy", ns.stream().filter(n -> n.fixes(a)).map(n -> n.channel() + " v" + n.version()).toList());
      out.add(m);
    }
    return AdminResponse.json(Map.of("advisories", out));
  }

  private AdminResponse exposure(AdminRequest req) {
    Optional<String> cve = req.queryParam("cve");
    Optional<String> severity = req.queryParam("severity");
    if (severity.isPresent() && !Advisory.SEVERITIES.contains(severity.get())) {
      throw new AdminResponse.Failure(400, "severity must be one of " + String.join(", ", Advisory.SEVERITIES));
    }
    long now = node.options().clock().millis();
    List<FixNotices.Notice> ns = notices.all();
    List<Advisory> all = ExposureIndex.withNoticeOnly(advisories.all(), ns);
    if (cve.isPresent()) {
      all = all.stream().filter(a -> a.isNamed(cve.get())).toList();
      if (all.isEmpty()) {
        throw new AdminResponse.Failure(404, "no advisory or fix notice names " + cve.get());
      }
    }
    List<Map<String, Object>> cves = new ArrayList<>();
    for (ExposureIndex.Row row : index.rows(all, board.agents(), ns, now)) {
      if (severity.isPresent() && !severityAtLeast(row.advisory().severity(), severity.get())) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", row.advisory().id());
      m.put("aliases", row.advisory().aliases());
      m.put("severity", row.advisory().severity());
      m.put("exposed", row.total().exposed);
      m.put("fixed", row.total().fixed);
      m.put("inRollout", row.total().inRollout);
      m.put("notReporting", row.total().notReporting);
      List<Map<String, Object>> sites = new ArrayList<>();
      row.sites().forEach((site, c) -> {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("site", site);
        s.put("exposed", c.exposed);
        s.put("fixed", c.fixed);
        s.put("inRollout", c.inRollout);
        s.put("notReporting", c.notReporting);
        sites.add(s);
      });
      m.put("sites", sites);
      cves.add(m);
    }
    return AdminResponse.json(Map.of("cves", cves));
  }

  /** --severity high shows high and critical; unknown shows only unknown. */
  static boolean severityAtLeast(String have, String want) {
    if (want.equals("unknown")) {
      return have.equals("unknown");
    }
    return !have.equals("unknown") && Advisory.SEVERITIES.indexOf(have) >= Advisory.SEVERITIES.indexOf(want);
  }

  private AdminResponse hostExposure(AdminRequest req) {
    Optional<String> site = req.queryParam("site");
    long now = node.options().clock().millis();
    Map<String, List<String>> open = new TreeMap<>();
    Map<String, String> severityOf = new HashMap<>();
    for (ExposureIndex.Row row : rows(now)) {
      for (String h : row.openHosts()) {
        open.computeIfAbsent(h, k -> new ArrayList<>()).add(row.advisory().id());
      }
      severityOf.put(row.advisory().id(), row.advisory().severity());
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (AgentRecord a : board.agents()) {
      if (site.isPresent() && !site.get().equals(a.site())) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", a.nodeId());
      m.put("site", a.site());
      m.put("hostname", a.facts().getHostname());
      m.put("reporting", software.holds(a.nodeId()) && now - a.receivedMillis() <= STALE_MILLIS);
      List<Map<String, String>> cves = new ArrayList<>();
      for (String id : open.getOrDefault(a.nodeId(), List.of())) {
        cves.add(Map.of("id", id, "severity", severityOf.get(id)));
      }
      m.put("openCves", cves);
      out.add(m);
    }
    return AdminResponse.json(Map.of("hosts", out));
  }
}
