package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.seed.exposure.OsvFormatException;
import io.patchmesh.seed.exposure.OsvParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "advisories",
    description = "Vulnerability advisories on a seed: import OSV JSON files, list what is held.",
    subcommands = {AdvisoriesCommand.Import.class, AdvisoriesCommand.List.class})
final class AdvisoriesCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: import or list");
  }

  @Command(name = "import", description = {
      "Read OSV JSON (one entry, an array, or {\"vulns\": [...]}) from FILE and store it on the seed.",
      "No network is used. A malformed file is refused (exit 2) naming the entry and field; a range",
      "whose version syntax the seed cannot order is kept, marked 'range not understood', never matched."})
  static final class Import implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AdminOptions admin;

    @Parameters(paramLabel = "FILE", description = "OSV JSON file")
    Path file;

    @Override
    public Integer call() {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (NoSuchFileException e) {
        throw new UserInputException(file + ": no such file");
      } catch (IOException e) {
        throw new UserInputException(file + ": cannot read: " + e.getMessage());
      }
      try {
        OsvParser.parse(bytes); // refuse a bad file here, with its name, before anything is sent
      } catch (OsvFormatException e) {
        throw new UserInputException(file + ": " + e.getMessage());
      }
      JsonNode r = admin.client().post("/api/v1/advisories", bytes);
      PrintWriter out = spec.commandLine().getOut();
      if (admin.json) {
        out.println(AdminClient.pretty(r));
        return Main.OK;
      }
      out.printf("imported %d advisories from %s (the seed holds %d)%n", r.path("imported").asInt(), file, r.path("held").asInt());
      for (JsonNode n : r.path("notUnderstood")) {
        out.printf("  %s %s: %s%n", n.path("id").asText(), n.path("package").asText(), n.path("why").asText());
      }
      return Main.OK;
    }
  }

  @Command(name = "list", description = "Advisories the seed holds (imported, and CVEs only a manifest's --fixes names).")
  static final class List implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AdminOptions admin;

    @Override
    public Integer call() {
      JsonNode r = admin.client().get("/api/v1/advisories");
      PrintWriter out = spec.commandLine().getOut();
      if (admin.json) {
        out.println(AdminClient.pretty(r));
        return Main.OK;
      }
      out.printf("%-22s %-9s %-8s %-30s %s%n", "ID", "SEVERITY", "SOURCE", "PACKAGES", "FIX");
      for (JsonNode a : r.path("advisories")) {
        String fix = a.path("fixedBy").isEmpty() ? "no fix published" : a.path("fixedBy").toString();
        String understood = a.path("rangesUnderstood").asBoolean() ? "" : "  (range not understood)";
        out.printf("%-22s %-9s %-8s %-30s %s%s%n", a.path("id").asText(), a.path("severity").asText(), a.path("source").asText(),
            a.path("packages").toString(), fix, understood);
      }
      return Main.OK;
    }
  }
}
