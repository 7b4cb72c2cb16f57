package io.patchmesh.runtime;

import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Role;
import io.patchmesh.store.StoredManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.codec.binary.Hex;

/**
 * The admin routes every node serves: its status (members by site and state,
 * manifests), its manifests, Prometheus metrics, and the dashboard assets. A
 * seed adds publishing, rollouts and fleet views on top.
 */
final class NodeApi {
  private NodeApi() {}

  static void addRoutes(AdminRouter r, NodeRuntime node) {
    r.get("/api/v1/status", req -> AdminResponse.json(status(node)));
    r.get("/api/v1/manifests", req -> AdminResponse.json(manifests(node, req.queryParam("channel").orElse(null))));
    r.get("/metrics", req -> AdminResponse.text(200, "text/plain; version=0.0.4; charset=utf-8", node.metrics().scrape()));
    r.openGet("/", req -> asset("index.html", "text/html; charset=utf-8"));
    r.openGet("/dashboard.js", req -> asset("dashboard.js", "application/javascript; charset=utf-8"));
    r.openGet("/dashboard.css", req -> asset("dashboard.css", "text/css; charset=utf-8"));
    r.openGet("/exposure.js", req -> asset("exposure.js", "application/javascript; charset=utf-8"));
    if (!node.options().isSeed()) {
      r.get("/api/v1/rollouts", req -> AdminResponse.json(localRollouts(node)));
    }
  }

  static Map<String, Object> status(NodeRuntime node) {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Object> self = new LinkedHashMap<>();
    self.put("id", node.id().hex());
    self.put("site", node.site());
    self.put("roles", node.options().roles().stream().map(NodeApi::roleName).sorted().toList());
    self.put("version", NodeRuntime.VERSION);
    self.put("uptimeSeconds", (node.options().clock().millis() - node.startedMillis()) / 1000);
    self.put("listen", node.config().outboundOnly() ? "" : node.transport().boundAddress().toString());
    self.put("links", node.transport().links().size());
    self.put("stale", node.staleReasons());
    out.put("node", self);
    List<Map<String, Object>> members = new ArrayList<>();
    for (Member m : node.snapshot().members()) {
      Map<String, Object> mm = new LinkedHashMap<>();
      mm.put("id", m.info().id().hex());
      mm.put("site", m.info().site());
      mm.put("state", m.status().label());
      mm.put("roles", m.info().roles().stream().map(NodeApi::roleName).sorted().toList());
      mm.put("addresses", m.info().addresses());
      mm.put("incarnation", m.incarnation());
      members.add(mm);
    }
    out.put("members", members);
    List<Map<String, Object>> manifests = new ArrayList<>();
    for (ManifestStatus s : node.snapshot().manifests()) {
      manifests.add(manifestStatus(s));
    }
    out.put("manifests", manifests);
    return out;
  }

  static Map<String, Object> manifestStatus(ManifestStatus s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", Hex.encodeHexString(s.getManifestId().toByteArray()));
    m.put("channel", s.getChannel());
    m.put("version", s.getVersion());
    m.put("phase", phase(s));
    m.put("chunksHave", s.getChunksHave());
    m.put("chunks", s.getChunksTotal());
    m.put("bytesLan", s.getBytesLan());
    m.put("bytesWan", s.getBytesWan());
    m.put("reason", s.getReason());
    return m;
  }

  static String phase(ManifestStatus s) {
    return s.getPhase().name().substring("PHASE_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static String roleName(Role r) {
    return r == Role.ROLE_SEED ? "seed" : "agent";
  }

  /**
   * The stored manifests; with a channel, only that channel's, each with the chunk params it was cut
   * with (a publish through a seed cuts the next version with them: {@code publish --seed}). Only the
   * one channel's manifests are parsed, so a plain listing stays cheap.
   */
  static List<Map<String, Object>> manifests(NodeRuntime node, String channel) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (StoredManifest sm : node.store().manifests().list()) {
      if (channel != null && !channel.equals(sm.channel())) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", sm.id().hex());
      m.put("channel", sm.channel());
      m.put("version", sm.version());
      m.put("chunks", sm.chunkCount());
      m.put("bytes", sm.contentBytes());
      m.put("signedBytes", sm.signedBytes());
      if (channel != null) {
        chunkParams(node, sm).ifPresent(p -> m.put("chunkParams", p));
      }
      out.add(m);
    }
    return out;
  }

  private static Optional<Map<String, Object>> chunkParams(NodeRuntime node, StoredManifest sm) {
    return node.store().manifests().get(sm.id()).flatMap(signed -> {
      try {
        Manifest parsed = Manifest.parseFrom(signed.getManifest());
        if (!parsed.hasChunkParams()) {
          return Optional.empty();
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("min", parsed.getChunkParams().getMinSize());
        p.put("avg", parsed.getChunkParams().getAvgSize());
        p.put("max", parsed.getChunkParams().getMaxSize());
        return Optional.of(p);
      } catch (InvalidProtocolBufferException e) {
        return Optional.empty(); // stored manifests were verified; a garbled one says nothing
      }
    });
  }

  /** An agent's own view, shaped like a seed's rollout list (one site: this node). */
  static List<Map<String, Object>> localRollouts(NodeRuntime node) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ManifestStatus s : node.snapshot().manifests()) {
      Map<String, Object> r = new LinkedHashMap<>();
      String id = Hex.encodeHexString(s.getManifestId().toByteArray());
      r.put("manifestId", id);
      r.put("channel", s.getChannel());
      r.put("version", s.getVersion());
      r.put("bytes", 0);
      r.put("state", phase(s));
      Map<String, Object> site = new LinkedHashMap<>();
      site.put("site", node.site());
      site.put("agents", 1);
      site.put("targeted", 1);
      site.put("complete", s.getChunksHave() == s.getChunksTotal() ? 1 : 0);
      site.put("applied", "applied".equals(phase(s)) ? 1 : 0);
      site.put("failed", "failed".equals(phase(s)) ? 1 : 0);
      site.put("chunksHave", s.getChunksHave());
      site.put("chunksTotal", s.getChunksTotal());
      site.put("wanBytes", s.getBytesWan());
      site.put("lanBytes", s.getBytesLan());
      site.put("everyAgentBytes", s.getBytesWan() + s.getBytesLan());
      r.put("sites", List.of(site));
      Map<String, Object> agent = new LinkedHashMap<>();
      agent.put("id", node.id().hex());
      agent.put("site", node.site());
      agent.put("state", phase(s));
      agent.put("chunks", s.getChunksHave());
      agent.put("chunksTotal", s.getChunksTotal());
      agent.put("bytesLan", s.getBytesLan());
      agent.put("bytesWan", s.getBytesWan());
      agent.put("reason", s.getReason());
      r.put("agents", List.of(agent));
      out.add(r);
    }
    return out;
  }

  private static AdminResponse asset(String name, String type) throws IOException {
    try (InputStream in = NodeApi.class.getResourceAsStream("/io/patchmesh/admin/dashboard/" + name)) {
      if (in == null) {
        return AdminResponse.error(404, "no dashboard asset " + name);
      }
      return new AdminResponse(200, type, in.readAllBytes());
    }
  }
}
