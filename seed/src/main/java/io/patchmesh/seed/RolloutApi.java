package io.patchmesh.seed;

import io.patchmesh.admin.AdminRequest;
import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Role;
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
 * Rollout views: for a manifest, per site and per agent, where it stands —
 * state, chunks, LAN and WAN bytes, and what every-agent-downloads would have
 * cost. Built from agents' reports (the {@link StatusBoard}) and the seed's
 * membership view (so agents that have not reported yet count as pending). An
 * agent that falls silent before it applied stays targeted ("unheard") for a day:
 * silence is not success, so the rollout is not "done" while one is ({@link
 * RolloutStanding}). One that fell silent after it reported applying is named apart
 * ("silentApplying"): it died or hung applying, and its stage counts it as failed.
 */
final class RolloutApi {
  private final NodeRuntime node;
  private final StatusBoard board;
  private final RolloutController controller;

  RolloutApi(NodeRuntime node, StatusBoard board, RolloutController controller) {
    this.node = node;
    this.board = board;
    this.controller = controller;
  }

  void addRoutes(AdminRouter r) {
    r.get("/api/v1/rollouts", req -> AdminResponse.json(all()));
    r.get("/api/v1/rollouts/{id}", this::one);
  }

  private List<Map<String, Object>> all() {
    List<Map<String, Object>> out = new ArrayList<>();
    List<StoredManifest> list = new ArrayList<>(node.store().manifests().list());
    list.sort((a, b) -> a.channel().equals(b.channel()) ? Long.compare(b.version(), a.version()) : a.channel().compareTo(b.channel()));
    for (StoredManifest sm : list) {
      out.add(view(sm));
    }
    return out;
  }

  private AdminResponse one(AdminRequest req) {
    ManifestId id;
    try {
      id = ManifestId.fromHex(req.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    Optional<StoredManifest> sm = node.store().manifests().info(id);
    if (sm.isEmpty()) {
      throw new AdminResponse.Failure(404, "unknown manifest " + id.hex());
    }
    return AdminResponse.json(view(sm.get()));
  }

  Map<String, Object> view(StoredManifest sm) {
    String hex = sm.id().hex();
    long bytes = sm.contentBytes();
    Map<String, Member> agentsById = new HashMap<>();
    for (Member m : node.snapshot().members()) {
      if (!m.info().roles().contains(Role.ROLE_SEED)) {
        agentsById.put(m.info().id().hex(), m);
      }
    }
    Map<String, long[]> sites = new TreeMap<>();
    List<Map<String, Object>> agents = new ArrayList<>();
    Map<String, AgentRecord> reported = new HashMap<>();
    for (AgentRecord a : board.agents()) {
      reported.put(a.nodeId(), a);
    }
    java.util.Set<String> linked = new java.util.HashSet<>();
    for (io.patchmesh.net.PeerLink l : node.transport().links()) {
      linked.add(l.peerId().hex());
    }
    long now = node.options().clock().millis();
    java.util.Set<String> ids = new java.util.TreeSet<>(reported.keySet());
    ids.addAll(agentsById.keySet());
    AgentLag lag = AgentLag.fromSeed(node);
    for (String id : ids) {
      AgentRecord a = reported.get(id);
      Member m = agentsById.get(id);
      String site = a != null ? a.site() : m.info().site();
      ManifestStatus st = a == null ? null : a.manifests().get(hex);
      // by this seed's own observation (its link, the agent's own reports); gossip alone cannot make
      // an agent gone while this seed hears from it, and silence alone does not make a rollout done
      RolloutStanding standing = RolloutStanding.of(a, m == null ? null : m.status(), st, linked.contains(id), now);
      // [agents, targeted, complete, applied, failed, chunksHave, chunksTotal, wan, lan, unheard, offline, silentApplying]
      long[] c = sites.computeIfAbsent(site, s -> new long[12]);
      c[0]++;
      if (standing == RolloutStanding.UNHEARD) {
        c[9]++;
      } else if (standing == RolloutStanding.OFFLINE) {
        c[10]++;
      } else if (standing == RolloutStanding.SILENT_APPLYING) {
        c[11]++;
      }
      String state;
      if (st == null) {
        state = standing == RolloutStanding.GONE ? "gone" : standing == RolloutStanding.OFFLINE ? "offline" : "pending";
        if (standing.counted()) {
          c[1]++;
          c[6] += sm.chunkCount();
        }
      } else {
        ManifestPhase p = st.getPhase();
        state = standing == RolloutStanding.OFFLINE ? "offline"
            : standing == RolloutStanding.SILENT_APPLYING ? "silent-applying" : StatusBoard.phaseName(p);
        if (p != ManifestPhase.PHASE_NOT_TARGETED && standing.counted()) {
          c[1]++;
          c[5] += st.getChunksHave();
          c[6] += st.getChunksTotal();
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
        c[7] += st.getBytesWan();
        c[8] += st.getBytesLan();
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", id);
      row.put("site", site);
      row.put("state", state);
      row.put("heard", standing == RolloutStanding.HEARD); // false: no link and no report here for 15 s or more
      row.put("member", m == null ? "unknown" : m.status().label());
      row.put("chunks", st == null ? 0 : st.getChunksHave());
      row.put("chunksTotal", st == null ? sm.chunkCount() : st.getChunksTotal());
      row.put("bytesLan", st == null ? 0 : st.getBytesLan());
      row.put("bytesWan", st == null ? 0 : st.getBytesWan());
      row.put("reason", standing == RolloutStanding.SILENT_APPLYING
          ? "silent while applying: no report for " + (now - a.receivedMillis()) / 1000 + " s since it began applying; counts as failed in its stage"
          : st == null ? "" : st.getReason());
      row.put("heldBack", a == null ? List.of() : a.facts().getHeldBackList()); // laptop policies holding it back now
      row.put("installExit", st == null ? -1 : st.getInstallExit());
      // offline catch-up: when this seed last heard the agent, and how many versions it has yet to apply
      row.put("lastSeenSecondsAgo", a == null ? -1 : Math.max(0, (now - a.receivedMillis()) / 1000));
      row.put("behindVersions", a == null ? -1 : AgentLag.total(lag.of(a)));
      agents.add(row);
    }
    List<Map<String, Object>> siteRows = new ArrayList<>();
    long wan = 0;
    long naive = 0;
    int targeted = 0;
    int applied = 0;
    int unheard = 0;
    int offline = 0;
    int silentApplying = 0;
    for (Map.Entry<String, long[]> e : sites.entrySet()) {
      long[] c = e.getValue();
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("site", e.getKey());
      s.put("agents", c[0]);
      s.put("targeted", c[1]);
      s.put("complete", c[2]);
      s.put("applied", c[3]);
      s.put("failed", c[4]);
      s.put("chunksHave", c[5]);
      s.put("chunksTotal", c[6]);
      s.put("wanBytes", c[7]);
      s.put("lanBytes", c[8]);
      s.put("everyAgentBytes", c[1] * bytes);
      s.put("unheard", c[9]);
      s.put("offline", c[10]);
      s.put("silentApplying", c[11]);
      siteRows.add(s);
      wan += c[7];
      naive += c[1] * bytes;
      targeted += (int) c[1];
      applied += (int) c[3];
      unheard += (int) c[9];
      offline += (int) c[10];
      silentApplying += (int) c[11];
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("manifestId", hex);
    out.put("channel", sm.channel());
    out.put("version", sm.version());
    out.put("bytes", bytes);
    out.put("chunks", sm.chunkCount());
    RolloutController.View cv = controller.view(sm.id()).orElse(null);
    String state = targeted > 0 && applied >= targeted ? "done" : "active";
    if (cv != null && !cv.state().equals("active")) {
      state = cv.state();
    }
    out.put("state", state);
    if (cv != null) {
      out.put("stage", cv.stage() + 1);
      out.put("stages", cv.stages());
      out.put("openPercent", cv.openPercent());
      out.put("reason", cv.reason());
      out.put("control", cv.control());
      out.put("urgent", cv.urgent());
      out.put("windowOverrideUntil", RolloutController.overrideText(cv));
    }
    out.put("targeted", targeted);
    out.put("applied", applied);
    // targeted agents silent here for 15 s or more that have not applied it (they hold "done" up), and
    // agents silent for over a day that are left out of "targeted"
    out.put("unheard", unheard);
    out.put("offline", offline);
    // targeted agents that fell silent after reporting they were applying it: they died or hung
    // applying; their stage counts them as failed (the plan's failure threshold halts on them)
    out.put("silentApplying", silentApplying);
    out.put("offlineAfterHours", RolloutStanding.OFFLINE_AFTER_MILLIS / 3600_000);
    out.put("wanBytes", wan);
    out.put("everyAgentBytes", naive);
    out.put("sites", siteRows);
    out.put("agents", agents);
    return out;
  }
}
