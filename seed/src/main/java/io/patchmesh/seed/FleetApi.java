package io.patchmesh.seed;

import io.patchmesh.admin.AdminRequest;
import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import io.patchmesh.apply.Labels;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Fleet views on a seed: the asset inventory (host facts per agent), compliance
 * per channel (desired version vs what agents applied, per site), and the
 * operator's rollout controls (pause, resume, abort).
 */
final class FleetApi {
  /** An agent not heard from for this long counts as not seen (stale). */
  static final long DEFAULT_STALE_MILLIS = 10 * 60_000;

  private final NodeRuntime node;
  private final StatusBoard board;
  private final RolloutController controller;

  FleetApi(NodeRuntime node, StatusBoard board, RolloutController controller) {
    this.node = node;
    this.board = board;
    this.controller = controller;
  }

  void addRoutes(AdminRouter r) {
    r.get("/api/v1/inventory", this::inventory);
    r.get("/api/v1/compliance", this::compliance);
    r.post("/api/v1/rollouts/{id}/{action}", this::steer);
    r.post("/api/v1/compliance/pin", this::pin);
  }

  private AdminResponse steer(AdminRequest req) {
    String action = req.pathParam("action");
    if (!List.of("pause", "resume", "abort", "override-window", "clear-window-override").contains(action)) {
      throw new AdminResponse.Failure(404, "unknown rollout action '" + action
          + "' (pause, resume, abort, override-window?for=DURATION, clear-window-override)");
    }
    ManifestId id;
    try {
      id = ManifestId.fromHex(req.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    Optional<RolloutController.View> v;
    try {
      v = switch (action) {
        case "override-window" -> controller.overrideWindow(id, overrideUntil(req));
        case "clear-window-override" -> controller.overrideWindow(id, 0);
        default -> controller.steer(id, action);
      };
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    } catch (io.patchmesh.seed.cluster.RolloutStore.NotSteeringException e) {
      throw new AdminResponse.Failure(503, "rollout commands are not taken now: " + e.getMessage());
    }
    if (v.isEmpty()) {
      throw new AdminResponse.Failure(404, "unknown manifest " + id.hex());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("manifestId", id.hex());
    out.putAll(RolloutController.describe(v.get()));
    return AdminResponse.json(out);
  }

  /** {@code for=DURATION} (e.g. 2h, 30m): the override lasts that long from now, by this seed's clock. */
  private long overrideUntil(AdminRequest req) {
    String text = req.queryParam("for").orElseThrow(() -> new AdminResponse.Failure(400, "override-window needs for=DURATION (e.g. 2h)"));
    java.time.Duration d;
    try {
      d = io.patchmesh.config.Units.parseDuration("for", text);
    } catch (RuntimeException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    if (d.isNegative() || d.isZero()) {
      throw new AdminResponse.Failure(400, "for=" + text + ": the override must last a positive duration");
    }
    if (d.toMillis() > RolloutJudge.MAX_WINDOW_OVERRIDE_MILLIS) {
      throw new AdminResponse.Failure(400, "for=" + text + ": a window override lasts at most 7 days");
    }
    return node.options().clock().millis() + d.toMillis();
  }

  private Map<String, Member> members() {
    Map<String, Member> m = new HashMap<>();
    for (Member x : node.snapshot().members()) {
      m.put(x.info().id().hex(), x);
    }
    return m;
  }

  private AdminResponse inventory(AdminRequest req) {
    Optional<String> site = req.queryParam("site");
    Optional<String> label = req.queryParam("label");
    String[] kv = label.map(l -> l.split("=", 2)).orElse(null);
    if (kv != null && kv.length != 2) {
      throw new AdminResponse.Failure(400, "label filter must be KEY=VALUE");
    }
    long now = node.options().clock().millis();
    Map<String, Member> members = members();
    AgentLag lag = AgentLag.fromSeed(node);
    List<Map<String, Object>> out = new ArrayList<>();
    for (AgentRecord a : board.agents()) {
      HostFacts f = a.facts();
      if (site.isPresent() && !site.get().equals(a.site())) {
        continue;
      }
      Map<String, String> labels = Labels.of(f);
      if (kv != null && !kv[1].equals(labels.get(kv[0]))) {
        continue;
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", a.nodeId());
      row.put("site", a.site());
      row.put("hostname", f.getHostname());
      row.put("os", f.getOsName());
      row.put("osVersion", f.getOsVersion());
      row.put("kernel", f.getKernel());
      row.put("arch", f.getArch());
      row.put("agentVersion", f.getAgentVersion());
      row.put("labels", new TreeMap<>(labels));
      row.put("freeDiskBytes", f.getFreeDiskBytes());
      row.put("lastSeenSecondsAgo", Math.max(0, (now - a.receivedMillis()) / 1000));
      row.put("clockSkewSeconds", f.getClockUnixMs() == 0 ? 0 : (f.getClockUnixMs() - a.receivedMillis()) / 1000);
      Member m = members.get(a.nodeId());
      row.put("member", m == null ? "unknown" : m.status().label());
      row.put("heldBack", f.getHeldBackList()); // laptop policies holding it back now (battery, metered, VPN, schedule)
      List<AgentLag.Behind> behind = lag.of(a); // "behind by N versions" (AgentLag), from its last report
      row.put("behindVersions", AgentLag.total(behind));
      List<Map<String, Object>> rows = new ArrayList<>();
      for (AgentLag.Behind b : behind) {
        Map<String, Object> br = new LinkedHashMap<>();
        br.put("channel", b.channel());
        br.put("appliedVersion", b.appliedVersion());
        br.put("desiredVersion", b.desiredVersion());
        br.put("versions", b.versions());
        rows.add(br);
      }
      row.put("behind", rows);
      out.add(row);
    }
    return AdminResponse.json(out);
  }

  private AdminResponse pin(AdminRequest req) {
    String channel = req.queryParam("channel").orElseThrow(() -> new AdminResponse.Failure(400, "channel= is required"));
    String version = req.queryParam("version").orElse("");
    if (version.isEmpty()) {
      node.store().state().delete("pin:" + channel, true);
    } else {
      try {
        Long.parseLong(version);
      } catch (NumberFormatException e) {
        throw new AdminResponse.Failure(400, "version must be a number");
      }
      node.store().state().putString("pin:" + channel, version, true);
    }
    return AdminResponse.json(Map.of("channel", channel, "pinned", version));
  }

  private AdminResponse compliance(AdminRequest req) {
    Optional<String> only = req.queryParam("channel");
    long stale = req.queryParam("stale-seconds").map(s -> Long.parseLong(s) * 1000).orElse(DEFAULT_STALE_MILLIS);
    long now = node.options().clock().millis();
    Map<String, StoredManifest> newest = new TreeMap<>();
    Map<String, Map<Long, String>> versions = new HashMap<>(); // channel -> version -> id hex
    for (StoredManifest sm : node.store().manifests().list()) {
      versions.computeIfAbsent(sm.channel(), c -> new HashMap<>()).put(sm.version(), sm.id().hex());
      StoredManifest cur = newest.get(sm.channel());
      if (cur == null || cur.version() < sm.version()) {
        newest.put(sm.channel(), sm);
      }
    }
    Map<String, Member> members = members();
    List<Map<String, Object>> channels = new ArrayList<>();
    for (Map.Entry<String, StoredManifest> e : newest.entrySet()) {
      String channel = e.getKey();
      if (only.isPresent() && !only.get().equals(channel)) {
        continue;
      }
      String pinned = node.store().state().getString("pin:" + channel);
      long desired = pinned != null ? Long.parseLong(pinned) : e.getValue().version();
      String desiredId = versions.get(channel).get(desired);
      Map<String, int[]> sites = new TreeMap<>(); // targeted, compliant, behind, failed, stale
      List<Map<String, Object>> problems = new ArrayList<>();
      for (AgentRecord a : board.agents()) {
        ManifestStatus want = desiredId == null ? null : a.manifests().get(desiredId);
        if (want != null && want.getPhase() == ManifestPhase.PHASE_NOT_TARGETED && want.getReason().isEmpty()) {
          continue; // not targeted by the desired version
        }
        long applied = 0;
        for (ManifestStatus st : a.manifests().values()) {
          if (st.getChannel().equals(channel) && st.getPhase() == ManifestPhase.PHASE_APPLIED) {
            applied = Math.max(applied, st.getVersion());
          }
        }
        int[] c = sites.computeIfAbsent(a.site(), s -> new int[5]);
        c[0]++;
        // not heard from, or the agent says so itself (its newest manifest expired, root expiring)
        boolean isStale = now - a.receivedMillis() > stale || a.facts().getStaleCount() > 0;
        String status;
        if (applied >= desired) {
          c[1]++;
          status = "compliant";
        } else if (want != null && want.getPhase() == ManifestPhase.PHASE_FAILED) {
          c[3]++;
          status = "failed";
        } else {
          c[2]++;
          status = "behind";
        }
        if (isStale) {
          c[4]++;
        }
        if (!status.equals("compliant") || isStale) {
          Map<String, Object> p = new LinkedHashMap<>();
          p.put("id", a.nodeId());
          p.put("site", a.site());
          p.put("hostname", a.facts().getHostname());
          p.put("status", status);
          p.put("appliedVersion", applied);
          p.put("reason", want == null ? "" : want.getReason());
          p.put("notSeenSeconds", isStale ? (now - a.receivedMillis()) / 1000 : 0);
          p.put("staleReasons", a.facts().getStaleList());
          problems.add(p);
        }
      }
      List<Map<String, Object>> siteRows = new ArrayList<>();
      int[] total = new int[5];
      sites.forEach((site, c) -> {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("site", site);
        s.put("targeted", c[0]);
        s.put("compliant", c[1]);
        s.put("behind", c[2]);
        s.put("failed", c[3]);
        s.put("stale", c[4]);
        siteRows.add(s);
        for (int i = 0; i < 5; i++) {
          total[i] += c[i];
        }
      });
      Map<String, Object> ch = new LinkedHashMap<>();
      ch.put("channel", channel);
      ch.put("desiredVersion", desired);
      ch.put("pinned", pinned != null);
      ch.put("targeted", total[0]);
      ch.put("compliant", total[1]);
      ch.put("behind", total[2]);
      ch.put("failed", total[3]);
      ch.put("stale", total[4]);
      ch.put("sites", siteRows);
      ch.put("agents", problems);
      channels.add(ch);
    }
    return AdminResponse.json(Map.of("channels", channels));
  }
}
