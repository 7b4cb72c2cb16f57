package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.apply.PatchApplier;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.store.NodeStore;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "apply",
    description = {
      "Apply a bundle offline: verify, store, write its files into a directory.",
      "The manifest (rollback checked against --store) and every chunk are verified,",
      "accepted into the store, then the files are assembled into --to atomically.",
      "Nothing is written to the store or the target unless the whole bundle verifies.",
      "Files the channel's previous version (recorded in --store) had and this one lacks",
      "are deleted; files of other channels or not written by patchmesh are never replaced.",
      "Re-applying the newest manifest the store accepted is fine; an older version",
      "is rejected (exit 3)."
    })
final class ApplyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--trust", required = true, paramLabel = "FILE", description = "trust root, e.g. root.pb")
  Path trust;

  @Option(names = "--bundle", required = true, paramLabel = "BUNDLE", description = "bundle directory")
  Path bundle;

  @Option(names = "--store", required = true, paramLabel = "DIR", description = "node store (created if missing)")
  Path storeDir;

  @Option(names = "--to", required = true, paramLabel = "DIR", description = "target directory for the files (created if missing)")
  Path to;

  @Option(names = "--json", description = "print {\"manifestId\",\"channel\",\"version\",\"files\",\"chunks\",\"bytes\",\"newChunks\",\"to\"}")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Instant now = Instant.now();
    TrustedRoot root = TrustRootFile.readTrusted(trust, now);
    BundleReader reader = BundleReader.open(bundle);
    if (Files.exists(to) && !Files.isDirectory(to)) {
      throw new UserInputException(to + ": exists and is not a directory");
    }
    // An existing store is opened first: its floor decides about rollback. A new
    // one is only created once everything verified, so a rejected bundle leaves
    // no trace.
    NodeStore store = Files.exists(storeDir) ? StoreDir.openExisting(storeDir) : null;
    if (store != null) {
      // as a node does when it loads a root: a reset carried by a newer root lowers floors once
      store.manifests().applyFloorResets(root);
    }
    try {
      VerifiedManifest vm =
          store == null
              ? BundleCheck.verifyManifest(bundle, reader, root, VersionFloor.NONE, id -> false, now)
              : BundleCheck.verifyManifest(bundle, reader, root, store.manifests(), BundleCheck.newestAccepted(store.manifests()), now);
      BundleCheck.verifyChunks(bundle, reader, vm.manifest(), new Progress("verify", json)::update);
      if (store == null) {
        store = StoreDir.openOrCreate(storeDir);
      }
      // Accept first: its chunk refs keep a quota GC from evicting the chunks
      // put next. A crash in between is repaired by running apply again.
      store.manifests().accept(vm);
      int newChunks = 0;
      for (ChunkRef ref : vm.manifest().getChunksList()) {
        ChunkId id = ChunkId.of(ref.getId());
        if (!store.chunks().has(id) && store.chunks().put(id, BundleCheck.readChunk(bundle, reader, id))) {
          newChunks++;
        }
      }
      NodeStore s = store;
      // as an agent applies (ownership and journal in --store): all or nothing, dropped files
      // deleted, other channels' and foreign files left alone; offline, no install command runs
      PatchApplier applier = new PatchApplier(to, false, PatchApplier.DEFAULT_INSTALL_TIMEOUT, store.state(), Clock.systemUTC());
      String recovered = applier.recover();
      if (recovered != null) {
        spec.commandLine().getErr().println("note: an interrupted apply: " + recovered);
      }
      PatchApplier.Result r = applier.apply(vm, id -> fromStore(s, id));
      if (!r.ok()) {
        throw new CliFailure(Main.FAILURE, to + ": " + r.reason());
      }
      print(vm, newChunks);
      return Main.OK;
    } finally {
      if (store != null) {
        store.close();
      }
    }
  }

  private static byte[] fromStore(NodeStore store, ChunkId id) throws MissingChunkException {
    byte[] b = store.chunks().get(id);
    if (b == null) {
      throw new MissingChunkException(id, "chunk " + id.shortHex() + " vanished from the store");
    }
    return b;
  }

  private void print(VerifiedManifest vm, int newChunks) {
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      ObjectNode n = JsonOut.object();
      n.put("manifestId", vm.id().hex());
      n.put("channel", vm.channel());
      n.put("version", vm.version());
      n.put("files", vm.manifest().getFilesCount());
      n.put("chunks", vm.manifest().getChunksCount());
      n.put("bytes", vm.manifest().getLimits().getTotalBytes());
      n.put("newChunks", newChunks);
      n.put("to", to.toString());
      JsonOut.print(o, n);
    } else {
      o.printf("applied %s version %d (manifest %s): %d files, %s -> %s (%d new chunks stored)%n",
          InspectCommand.printable(vm.channel()), vm.version(), vm.id().shortHex(), vm.manifest().getFilesCount(),
          Units.formatBytes(vm.manifest().getLimits().getTotalBytes()), to, newChunks);
      o.flush();
    }
  }
}
