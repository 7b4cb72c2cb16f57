package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.trust.KeyFiles;
import io.patchmesh.trust.SigningKey;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "keygen",
    description = {
      "Create an Ed25519 signing key: NAME.key (mode 0600) and NAME.pub.",
      "NAME.key is PEM PKCS#8. Prints the key id (SHA-256 of the public key).",
      "Never overwrites an existing key."
    })
final class KeygenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--out", required = true, paramLabel = "NAME", description = "writes NAME.key and NAME.pub")
  Path out;

  @Option(names = "--json", description = "print {\"keyId\",\"private\",\"public\"}")
  boolean json;

  @Override
  public Integer call() {
    Path key = sibling(out, ".key");
    Path pub = sibling(out, ".pub");
    for (Path p : new Path[] {key, pub}) {
      if (Files.exists(p)) {
        throw new UserInputException(p + ": already exists; refusing to overwrite a key");
      }
    }
    SigningKey k = KeyFiles.generate(key, pub);
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      ObjectNode n = JsonOut.object();
      n.put("keyId", k.keyId());
      n.put("private", key.toString());
      n.put("public", pub.toString());
      JsonOut.print(o, n);
    } else {
      o.println(k.keyId());
      o.flush();
    }
    return Main.OK;
  }

  private static Path sibling(Path name, String suffix) {
    return name.resolveSibling(name.getFileName() + suffix);
  }
}
