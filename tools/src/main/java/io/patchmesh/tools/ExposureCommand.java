package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.errors.UserInputException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "exposure", description = {
    "Hosts exposed to each advisory: exposed (affected version installed, no fix applied or under way),",
    "fixed (applied a manifest whose --fixes names it), inRollout (a fix on its way), notReporting, by site.",
    "--json prints {\"cves\": [{\"id\",\"aliases\",\"severity\",\"exposed\",\"fixed\",\"inRollout\",\"notReporting\",\"sites\"}]};",
    "--hosts lists each host's open CVEs instead."})
final class ExposureCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin AdminOptions admin;

  @Option(names = "--cve", paramLabel = "ID", description = "only this advisory (its id or any alias)")
  String cve;

  @Option(names = "--severity", paramLabel = "low|medium|high|critical", description = "only advisories at least this severe")
  String severity;

  @Option(names = "--hosts", description = "per host: its open CVEs")
  boolean hosts;

  @Option(names = "--site", paramLabel = "SITE", description = "with --hosts: only this site")
  String site;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (hosts) {
      JsonNode r = admin.client().get("/api/v1/exposure/hosts" + (site == null ? "" : "?site=" + enc(site)));
      if (admin.json) {
        out.println(AdminClient.pretty(r));
        return Main.OK;
      }
      out.printf("%-14s %-12s %-20s %s%n", "SITE", "AGENT", "HOST", "OPEN CVES");
      for (JsonNode h : r.path("hosts")) {
        StringBuilder b = new StringBuilder();
        for (JsonNode c : h.path("openCves")) {
          b.append(b.length() == 0 ? "" : ", ").append(c.path("id").asText()).append(" (").append(c.path("severity").asText()).append(')');
        }
        out.printf("%-14s %-12s %-20s %s%n", h.path("site").asText(), h.path("id").asText().substring(0, 12), h.path("hostname").asText(),
            h.path("reporting").asBoolean() ? (b.length() == 0 ? "none" : b) : "not reporting");
      }
      return Main.OK;
    }
    if (severity != null && !java.util.List.of("low", "medium", "high", "critical", "unknown").contains(severity)) {
      throw new UserInputException("--severity " + severity + ": use low, medium, high or critical");
    }
    StringBuilder q = new StringBuilder("/api/v1/exposure");
    char sep = '?';
    if (cve != null) {
      q.append(sep).append("cve=").append(enc(cve));
      sep = '&';
    }
    if (severity != null) {
      q.append(sep).append("severity=").append(enc(severity));
    }
    JsonNode r = admin.client().get(q.toString());
    if (admin.json) {
      out.println(AdminClient.pretty(r));
      return Main.OK;
    }
    out.printf("%-22s %-9s %8s %8s %10s %13s  %s%n", "CVE", "SEVERITY", "EXPOSED", "FIXED", "IN ROLLOUT", "NOT REPORTING", "BY SITE (exposed/fixed/inRollout)");
    for (JsonNode c : r.path("cves")) {
      StringBuilder sites = new StringBuilder();
      for (JsonNode s : c.path("sites")) {
        sites.append(sites.length() == 0 ? "" : "  ").append(s.path("site").asText()).append(' ')
            .append(s.path("exposed").asInt()).append('/').append(s.path("fixed").asInt()).append('/').append(s.path("inRollout").asInt());
      }
      out.printf("%-22s %-9s %8d %8d %10d %13d  %s%n", c.path("id").asText(), c.path("severity").asText(), c.path("exposed").asInt(),
          c.path("fixed").asInt(), c.path("inRollout").asInt(), c.path("notReporting").asInt(), sites);
    }
    return Main.OK;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
