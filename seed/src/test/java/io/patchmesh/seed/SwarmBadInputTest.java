package io.patchmesh.seed;

import static io.patchmesh.seed.SwarmTest.applied;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an agent does with a peer that asks for nonsense, and with an apply directory it cannot use. */
class SwarmBadInputTest {
  @TempDir Path tmp;

  private static Frame request(ByteString manifest, int index, long id) {
    return Frame.newBuilder()
        .setRequest(Request.newBuilder().setManifestId(manifest).setChunkIndex(index).setRequestId(id))
        .build();
  }

  private static Optional<ManifestStatus> status(NodeRuntime n, VerifiedManifest vm) {
    return n.manifestStatuses().stream().filter(s -> s.getManifestId().equals(vm.id().toByteString())).findFirst();
  }

  @Test
  void peerAskingForUnknownManifestsAndUnannouncedChunksIsThrottledThenDisconnected() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      NodeRuntime agent = mesh.startAgent("branch-a-1", "branch-a");
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, 256 * 1024, 6);
      VerifiedManifest vm = mesh.publish(seed, content, "test/guard", 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> applied(agent, vm));
      int chunks = ChunkTable.of(vm.manifest()).count();

      try (MaliciousPeer rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "branch-b", vm, MaliciousPeer.Behaviour.QUIET)) {
        PeerLink link = rogue.connect(agent);
        // Six bad requests (2 penalty points each, forgiven at 1 per second) pass the throttle threshold ...
        for (int i = 0; i < 4; i++) {
          link.sendControl(request(ByteString.copyFrom(new byte[32]), 0, i));
        }
        link.sendControl(request(vm.id().toByteString(), chunks + 5, 3)); // outside the manifest
        link.sendControl(request(vm.id().toByteString(), -1, 4));
        await().atMost(Duration.ofSeconds(10)).until(() -> rogue.rejects.size() >= 6);
        assertEquals("unknown-manifest", rogue.rejects.get(0).getReason());
        assertEquals("not-have", rogue.rejects.get(5).getReason());
        // ... so even a fair request is refused while the penalty lasts ...
        link.sendControl(request(vm.id().toByteString(), 0, 5));
        await().atMost(Duration.ofSeconds(10)).until(() -> rogue.rejects.size() >= 7);
        Reject fair = rogue.rejects.get(6);
        assertEquals(0, fair.getChunkIndex());
        assertEquals("choked", fair.getReason());
        // ... and a peer that keeps going is disconnected.
        for (int i = 0; i < 40 && link.isOpen(); i++) {
          link.sendControl(request(ByteString.copyFrom(new byte[32]), 0, 100 + i));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> rogue.hungUpOn.contains(agent.id()));
        assertTrue(applied(agent, vm), "the honest work is unaffected");
      }
    }
  }

  @Test
  void applyDirThatCannotBeCreatedReportsFailedAndKeepsTheVerifiedChunks() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      Path notADir = tmp.resolve("a-file");
      Files.writeString(notADir, "in the way");
      Path applyDir = notADir.resolve("apply"); // its parent is a file: cannot be created, even by root
      NodeRuntime agent = mesh.startAgent("branch-a-1", "branch-a", b -> b.applyDir(applyDir.toString()), o -> o);
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, 512 * 1024, 7);
      VerifiedManifest vm = mesh.publish(seed, content, "test/applydir", 1);

      await().atMost(Duration.ofSeconds(60))
          .until(() -> status(agent, vm).map(s -> s.getPhase() == ManifestPhase.PHASE_FAILED).orElse(false));
      ManifestStatus st = status(agent, vm).orElseThrow();
      assertTrue(st.getReason().contains("apply dir " + applyDir), st.getReason());
      ChunkTable table = ChunkTable.of(vm.manifest());
      for (int i = 0; i < table.count(); i++) {
        assertTrue(agent.store().chunks().has(table.id(i)), "verified chunk " + i + " kept after the failure");
      }
    }
  }
}
