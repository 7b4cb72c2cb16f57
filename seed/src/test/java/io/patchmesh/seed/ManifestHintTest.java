package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.HaveMap;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.ManifestFetchTimers;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestSigner;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that missed every gossip copy of an announcement learns of the manifest from a
 * site-mate's have-map and fetches it from there, verified like any other; have-maps naming
 * manifests nobody serves cost a bounded number of requests.
 */
class ManifestHintTest {
  @TempDir Path tmp;

  private static Frame haveMap(ManifestId id) {
    return Frame.newBuilder().setHaveMap(HaveMap.newBuilder().setManifestId(id.toByteString())
        .setChunkCount(1).setBits(ByteString.copyFrom(new byte[] {1}))).build();
  }

  @Test
  void aSiteMatesHaveMapFetchesAManifestNeverAnnounced() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      // fast slow-source timers (a 4 s stall instead of 15 s): the silent sources below are given up sooner
      NodeRuntime agent = mesh.startAgent("branch-a-1", "branch-a", b -> b, o -> o.withManifestFetch(ManifestFetchTimers.fast()));
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
      // Signed by the publisher but never published through the seed: nobody announces it.
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, 64 * 1024, 3);
      SignedManifest unannounced = ManifestSigner.sign(new ManifestBuilder(ChunkParams.DEFAULT)
          .channel("test/hint").version(1).expires(Instant.now().plus(Duration.ofDays(1)))
          .build(List.of(content), (id, b, o, l) -> {}, ProgressListener.NONE), List.of(mesh.publisher()));
      ManifestId id = ManifestId.ofManifestBytes(unannounced.getManifest().toByteArray());

      try (MaliciousPeer mate = new MaliciousPeer(mesh.dir(), tmp.resolve("mate"), "branch-a", null,
          MaliciousPeer.Behaviour.QUIET)) {
        mate.serveManifest(unannounced);
        PeerLink link = mate.connect(agent);
        // Have-maps for manifests nobody serves: at most two fetches at once are spent on them.
        Random r = new Random(5);
        for (int i = 0; i < 6; i++) {
          byte[] bogus = new byte[32];
          r.nextBytes(bogus);
          mate.send(link, haveMap(ManifestId.of(ByteString.copyFrom(bogus))));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> mate.manifestRequests.get() >= 2);
        assertFalse(agent.store().manifests().contains(id));
        long bogusRequests = mate.manifestRequests.get();
        assertEquals(2, bogusRequests, "hinted fetches are bounded");

        // The real one, offered until a hinted slot is free again (a silent source is given up after a stall).
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofSeconds(1)).until(() -> {
          mate.send(link, haveMap(id));
          return agent.store().manifests().contains(id);
        });
        assertEquals(1, mate.manifestPartsServed.get());
      }
    }
  }
}
