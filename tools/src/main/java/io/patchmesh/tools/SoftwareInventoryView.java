package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** `inventory --software [--package NAME] [--site S]`: the seed's /api/v1/inventory/software as a table or JSON. */
final class SoftwareInventoryView {
  private SoftwareInventoryView() {}

  static int show(AdminOptions admin, String site, String pkg, PrintWriter out) {
    StringBuilder q = new StringBuilder("/api/v1/inventory/software");
    char sep = '?';
    if (site != null) {
      q.append(sep).append("site=").append(URLEncoder.encode(site, StandardCharsets.UTF_8));
      sep = '&';
    }
    if (pkg != null) {
      q.append(sep).append("package=").append(URLEncoder.encode(pkg, StandardCharsets.UTF_8));
    }
    JsonNode inv = admin.client().get(q.toString());
    if (admin.json) {
      out.println(AdminClient.pretty(inv));
      return Main.OK;
    }
    JsonNode hosts = inv.path("hosts");
    if (pkg != null) {
      out.printf("%-14s %-12s %-20s %s%n", "SITE", "AGENT", "HOST", pkg.toUpperCase(java.util.Locale.ROOT));
      for (JsonNode h : hosts) {
        out.printf("%-14s %-12s %-20s %s%n", h.path("site").asText(), h.path("id").asText().substring(0, 12),
            h.path("hostname").asText(), h.path("version").asText());
      }
      out.printf("%d hosts have %s%n", hosts.size(), pkg);
      return Main.OK;
    }
    out.printf("%-14s %-12s %-20s %-8s %8s  %s%n", "SITE", "AGENT", "HOST", "SOURCE", "PACKAGES", "COLLECTOR");
    for (JsonNode h : hosts) {
      String state = h.path("error").asText().isEmpty() ? "ok" : h.path("error").asText();
      out.printf("%-14s %-12s %-20s %-8s %8s  %s%n", h.path("site").asText(), h.path("id").asText().substring(0, 12),
          h.path("hostname").asText(), h.path("source").asText(), h.path("reported").asBoolean() ? h.path("packages").asText() : "-", state);
    }
    out.printf("%d hosts%n", hosts.size());
    return Main.OK;
  }
}
