package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.content.BundleReader;
import io.patchmesh.store.NodeStore;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "verify",
    description = {
      "Verify a bundle's signed manifest and every chunk file against a trust root.",
      "Checks signatures, threshold, expiry and structure, rollback against the",
      "versions --store accepted (if given), and the hash and size of every chunk.",
      "Exit 0 valid, 3 rejected (the reason on one line), 2 unreadable input."
    })
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--trust", required = true, paramLabel = "FILE", description = "trust root, e.g. root.pb")
  Path trust;

  @Option(names = "--store", paramLabel = "DIR", description = "check rollback against the versions this node store accepted")
  Path storeDir;

  @Option(names = "--json", description = "print {\"valid\",\"manifestId\",\"channel\",\"version\",\"chunks\",\"bytes\",\"signatures\"}")
  boolean json;

  @Parameters(paramLabel = "BUNDLE", description = "bundle directory")
  Path bundle;

  @Override
  public Integer call() {
    try {
      return verify();
    } catch (CliFailure f) {
      if (json && f.exitCode() == Main.REJECTED) {
        ObjectNode n = JsonOut.object();
        n.put("valid", false);
        n.put("error", f.getMessage());
        JsonOut.print(spec.commandLine().getOut(), n);
      }
      throw f;
    }
  }

  private int verify() {
    Instant now = Instant.now();
    TrustedRoot root = TrustRootFile.readTrusted(trust, now);
    BundleReader reader = BundleReader.open(bundle);
    VerifiedManifest vm;
    if (storeDir == null) {
      vm = BundleCheck.verifyManifest(bundle, reader, root, VersionFloor.NONE, id -> false, now);
    } else {
      try (NodeStore store = StoreDir.openExisting(storeDir)) {
        vm = BundleCheck.verifyManifest(bundle, reader, root, store.manifests(), BundleCheck.newestAccepted(store.manifests()), now);
      }
    }
    BundleCheck.verifyChunks(bundle, reader, vm.manifest(), new Progress("verify", json)::update);

    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      ObjectNode n = JsonOut.object();
      n.put("valid", true);
      n.put("manifestId", vm.id().hex());
      n.put("channel", vm.channel());
      n.put("version", vm.version());
      n.put("chunks", vm.manifest().getChunksCount());
      n.put("bytes", vm.manifest().getLimits().getTotalBytes());
      n.put("signatures", vm.signed().getSignaturesCount());
      JsonOut.print(o, n);
    } else {
      o.printf("%s: valid: %s version %d (manifest %s), %d chunks, %s verified%n",
          bundle, InspectCommand.printable(vm.channel()), vm.version(), vm.id().shortHex(),
          vm.manifest().getChunksCount(), Units.formatBytes(vm.manifest().getLimits().getTotalBytes()));
      o.flush();
    }
    return Main.OK;
  }
}
