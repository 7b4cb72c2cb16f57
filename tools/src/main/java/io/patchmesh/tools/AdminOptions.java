package io.patchmesh.tools;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --admin / --token-file / --json shared by the commands that talk to a running node. */
final class AdminOptions {
  @Option(names = "--admin", required = true, paramLabel = "URL", description = "admin API of a node, e.g. http://127.0.0.1:7701")
  String admin;

  @Option(names = "--token-file", paramLabel = "FILE", description = "file holding the admin token (default: $PATCHMESH_TOKEN)")
  Path tokenFile;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  AdminClient client() {
    return new AdminClient(admin, tokenFile);
  }
}
