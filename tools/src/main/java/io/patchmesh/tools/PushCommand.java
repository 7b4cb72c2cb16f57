package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.config.Units;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "push",
    description = "Upload a bundle to a running seed, which verifies it, stores it and announces it. Only chunks the seed lacks are sent.")
final class PushCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--seed", required = true, paramLabel = "URL", description = "the seed's admin API, e.g. http://127.0.0.1:7701")
  String seed;

  @Option(names = "--token-file", paramLabel = "FILE", description = "file holding the seed's admin token (default: $PATCHMESH_TOKEN)")
  Path tokenFile;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Parameters(paramLabel = "BUNDLE", description = "bundle directory (from publish --out)")
  Path bundle;

  @Override
  public Integer call() {
    JsonNode r = SeedUploader.push(new AdminClient(seed, tokenFile), bundle, new Progress("push", json));
    print(spec.commandLine().getOut(), r, json);
    return Main.OK;
  }

  static void print(PrintWriter out, JsonNode r, boolean json) {
    if (json) {
      com.fasterxml.jackson.databind.node.ObjectNode n = JsonOut.object();
      for (String f : new String[] {"manifestId", "channel", "version", "files", "chunks", "bytes", "newChunks", "newBytes", "announcedAtMillis"}) {
        if (r.has(f)) {
          n.set(f, r.get(f));
        }
      }
      JsonOut.print(out, n);
      return;
    }
    out.printf("published %s version %s through the seed%n", r.path("channel").asText(), r.path("version").asText());
    out.printf("  manifest %s%n", r.path("manifestId").asText());
    out.printf("  %s files, %s chunks, %s; uploaded %s new chunks (%s)%n", r.path("files").asText(), r.path("chunks").asText(),
        Units.formatBytes(r.path("bytes").asLong()), r.path("newChunks").asText(), Units.formatBytes(r.path("newBytes").asLong()));
  }
}
