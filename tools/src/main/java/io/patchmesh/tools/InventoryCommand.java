package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.config.Units;
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

@Command(name = "inventory", description = {"Host facts per agent, as reported to a seed: host, OS, kernel, arch, agent version, labels, free disk, last seen.",
    "--software: installed software per host (dpkg, rpm or a command; plus patchmesh:CHANNEL entries); --package NAME: who has it, at which version."})
final class InventoryCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;
  @Spec CommandSpec spec;

  @Option(names = "--site", paramLabel = "SITE", description = "only this site")
  String site;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "only agents with this label")
  String label;

  @Option(names = "--software", description = "installed software per host (package counts, collector state) instead of host facts")
  boolean software;

  @Option(names = "--package", paramLabel = "NAME", description = "with --software: hosts that have NAME installed, with its version")
  String pkg;

  @Override
  public Integer call() {
    if (software || pkg != null) {
      return SoftwareInventoryView.show(admin, site, pkg, spec.commandLine().getOut());
    }
    if (label != null && !label.contains("=")) {
      throw new UserInputException("--label " + label + ": expected KEY=VALUE");
    }
    StringBuilder q = new StringBuilder("/api/v1/inventory");
    char sep = '?';
    if (site != null) {
      q.append(sep).append("site=").append(URLEncoder.encode(site, StandardCharsets.UTF_8));
      sep = '&';
    }
    if (label != null) {
      q.append(sep).append("label=").append(URLEncoder.encode(label, StandardCharsets.UTF_8));
    }
    JsonNode inv = admin.client().get(q.toString());
    PrintWriter out = spec.commandLine().getOut();
    if (admin.json) {
      out.println(AdminClient.pretty(inv));
      return Main.OK;
    }
    out.printf("%-14s %-12s %-20s %-22s %-8s %-8s %10s %9s  %s%n", "SITE", "AGENT", "HOST", "OS", "ARCH", "VERSION", "FREE DISK", "SEEN", "LABELS");
    for (JsonNode a : inv) {
      out.printf("%-14s %-12s %-20s %-22s %-8s %-8s %10s %8ss  %s%n",
          a.path("site").asText(), a.path("id").asText().substring(0, 12), a.path("hostname").asText(),
          (a.path("os").asText() + " " + a.path("osVersion").asText()).trim(), a.path("arch").asText(),
          a.path("agentVersion").asText(), Units.formatBytes(a.path("freeDiskBytes").asLong()),
          a.path("lastSeenSecondsAgo").asText(), a.path("labels"));
      for (JsonNode b : a.path("behind")) { // offline catch-up: versions the agent has not applied yet
        out.printf("%-14s behind by %d version%s in %s (applied v%d, desired v%d)%n", "", b.path("versions").asInt(),
            b.path("versions").asInt() == 1 ? "" : "s", b.path("channel").asText(), b.path("appliedVersion").asLong(),
            b.path("desiredVersion").asLong());
      }
      for (JsonNode why : a.path("heldBack")) { // laptop policies holding this agent back now
        out.printf("%-14s held back: %s%n", "", why.asText());
      }
    }
    out.printf("%d agents%n", inv.size());
    return Main.OK;
  }
}
