package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "compliance",
    description = "Desired vs applied version per channel and site: compliant, behind (and on what), failed (and why), not seen.")
final class ComplianceCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;
  @Spec CommandSpec spec;

  @Option(names = "--channel", paramLabel = "CHANNEL", description = "only this channel")
  String channel;

  @Override
  public Integer call() {
    String path = "/api/v1/compliance" + (channel == null ? "" : "?channel=" + URLEncoder.encode(channel, StandardCharsets.UTF_8));
    JsonNode c = admin.client().get(path);
    PrintWriter out = spec.commandLine().getOut();
    if (admin.json) {
      out.println(AdminClient.pretty(c));
      return Main.OK;
    }
    if (c.path("channels").isEmpty()) {
      out.println(channel == null ? "no channels published yet" : "no manifests for channel " + channel);
      return Main.OK;
    }
    for (JsonNode ch : c.path("channels")) {
      out.printf("%s  desired v%s%s: %d/%d compliant, %d behind, %d failed, %d not seen%n",
          ch.path("channel").asText(), ch.path("desiredVersion").asText(), ch.path("pinned").asBoolean() ? " (pinned)" : "",
          ch.path("compliant").asInt(), ch.path("targeted").asInt(), ch.path("behind").asInt(),
          ch.path("failed").asInt(), ch.path("stale").asInt());
      for (JsonNode s : ch.path("sites")) {
        out.printf("  %-16s %3d/%-3d compliant  %3d behind  %3d failed  %3d not seen%n", s.path("site").asText(),
            s.path("compliant").asInt(), s.path("targeted").asInt(), s.path("behind").asInt(), s.path("failed").asInt(),
            s.path("stale").asInt());
      }
      for (JsonNode a : ch.path("agents")) {
        out.printf("    %s %-12s %-9s on v%s %s%s%n", a.path("site").asText(), a.path("id").asText().substring(0, 12),
            a.path("status").asText(), a.path("appliedVersion").asText(), a.path("reason").asText(),
            a.path("notSeenSeconds").asLong() > 0 ? " (not seen for " + a.path("notSeenSeconds").asText() + " s)" : "");
      }
    }
    return Main.OK;
  }
}
