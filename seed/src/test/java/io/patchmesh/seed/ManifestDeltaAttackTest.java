package io.patchmesh.seed;

import static io.patchmesh.seed.ManifestDeltaMeshTest.CHANNEL;
import static io.patchmesh.seed.ManifestDeltaMeshTest.SITE;
import static io.patchmesh.seed.ManifestDeltaMeshTest.announce;
import static io.patchmesh.seed.ManifestDeltaMeshTest.idOf;
import static io.patchmesh.seed.ManifestDeltaMeshTest.publish;
import static io.patchmesh.seed.ManifestDownloadAttackTest.metric;
import static io.patchmesh.seed.SwarmTest.applied;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.MaliciousPeer.Behaviour;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rogue with a valid certificate answers manifest requests that name a base with bad deltas: out
 * of bounds, or well formed but rebuilding other bytes. Each is judged as a bad copy would be
 * (charged; a lie also backs the rogue off), the download asks in full from then on, and the
 * genuine v2 published meanwhile verifies on every agent. A real mesh: a seed and two agents.
 */
class ManifestDeltaAttackTest {
  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  SignedManifest[] v;
  MaliciousPeer rogue;
  final ScheduledExecutorService exec = Executors.newSingleThreadScheduledExecutor();

  @BeforeEach
  void startMeshWithV1() throws Exception {
    List<SeedNode> s = new ArrayList<>();
    mesh = ManifestDeltaMeshTest.startMesh(tmp.resolve("mesh"), s);
    seed = s.get(0);
    v = ManifestDeltaMeshTest.versions(mesh, seed, tmp);
    VerifiedManifest v1 = publish(seed, v[0]);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, v1)));
    rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", SITE, null, Behaviour.QUIET, id -> null);
  }

  @AfterEach
  void tearDown() throws Exception {
    exec.shutdownNow();
    exec.awaitTermination(5, TimeUnit.SECONDS);
    rogue.close();
    mesh.close();
  }

  /** The rogue answers every request naming a base with {@code answer(link, request)} as its delta part. */
  private void answerWith(BiFunction<PeerLink, ManifestRequest, ManifestPart> answer) {
    rogue.onFrame((link, f) -> {
      if (f.hasManifestRequest() && !f.getManifestRequest().getBaseId().isEmpty()) {
        rogue.send(link, Frame.newBuilder().setManifestPart(answer.apply(link, f.getManifestRequest())).build());
        return true;
      }
      return false;
    });
  }

  private List<PeerLink> connectAndAnnounceEverySecond(List<Frame> announcements) throws Exception {
    List<PeerLink> links = new ArrayList<>();
    for (NodeRuntime a : mesh.agents()) {
      links.add(rogue.connect(a));
    }
    exec.scheduleAtFixedRate(() -> {
      for (PeerLink l : links) {
        if (l.isOpen()) {
          announcements.forEach(f -> rogue.send(l, f));
        }
      }
    }, 0, 1, TimeUnit.SECONDS);
    return links;
  }

  private void genuineV2ArrivesEverywhere() {
    VerifiedManifest v2 = publish(seed, v[1]);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, v2)));
    for (NodeRuntime a : mesh.agents()) {
      assertArrayEquals(v[1].toByteArray(), a.store().manifests().get(v2.id()).orElseThrow().toByteArray());
    }
  }

  private static Frame invented(Random r, long version, long size) {
    byte[] id = new byte[ManifestId.LENGTH];
    r.nextBytes(id);
    return Frame.newBuilder().setAnnounce(Announce.newBuilder().setManifestId(ByteString.copyFrom(id))
        .setChannel(CHANNEL).setVersion(version).setSize(size)).build();
  }

  @Test
  void deltasOutsideTheLimitsCostTheRogueAStrikeEachUntilItIsBannedAndV2StillArrives() throws Exception {
    // an envelope of 64 MiB "as a delta": refused before anything is allocated for it
    answerWith((link, req) -> ManifestPart.newBuilder().setManifestId(req.getManifestId()).setTotalSize(64L << 20)
        .setDeltaBaseId(req.getBaseId())
        .setDelta(Delta.newBuilder().addOps(DeltaOp.newBuilder().setOffset(0).setLength(100))).build());
    // three ids (the genuine v2's and two invented ones), so three strikes once each was asked for
    Random r = new Random(5);
    List<Frame> announcements = new CopyOnWriteArrayList<>(List.of(announce(v[1], 2), invented(r, 3, 4000), invented(r, 4, 4000)));
    connectAndAnnounceEverySecond(announcements);
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> a.transport().link(rogue.id()).isEmpty() && a.metrics().bans() >= 1);
      assertTrue(metric(a, "patchmesh_manifest_deltas_refused") >= 3, "each bad delta refused");
    }
    genuineV2ArrivesEverywhere();
    System.out.printf("MANIFEST-DELTA-ATTACK | deltas for 64 MiB envelopes: refused unallocated, rogue banned by both"
        + " agents after %d requests; v2 verified everywhere%n", rogue.manifestRequests.get());
  }

  @Test
  void deltasThatDoNotDecodeOrRebuildOtherBytesAreLiesTheRogueIsBackedOffAndV2ArrivesFromTheSeed() throws Exception {
    byte[] tampered = v[1].toByteArray();
    tampered[tampered.length / 2] ^= 1; // inside the signed manifest bytes: no longer hashes to the id
    Delta wrongBytes = ManifestDelta.encode(tampered, v[0].getManifest().toByteArray()).orElseThrow();
    int base = v[0].getManifest().size();
    Delta pastTheBase = Delta.newBuilder().addOps(DeltaOp.newBuilder().setOffset(base - 10).setLength(tampered.length)).build();
    NodeRuntime first = mesh.agents().get(0);
    answerWith((link, req) -> ManifestPart.newBuilder().setManifestId(req.getManifestId()).setTotalSize(tampered.length)
        .setDeltaBaseId(req.getBaseId()).setDelta(link.peerId().equals(first.id()) ? pastTheBase : wrongBytes).build());
    List<Double> failedBefore = new ArrayList<>();
    for (NodeRuntime a : mesh.agents()) {
      failedBefore.add(a.metrics().manifestVerifyFailures());
    }
    List<Frame> announcements = new CopyOnWriteArrayList<>(List.of(announce(v[1], 2)));
    connectAndAnnounceEverySecond(announcements);
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> metric(a, "patchmesh_manifest_deltas_refused") >= 1);
    }
    // the rogue announces another id: a source whose copy lied is asked for nothing meanwhile
    announcements.add(invented(new Random(6), 3, 4000));
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> metric(a, "patchmesh_manifest_sources_backed_off") >= 1);
    }
    long asked = rogue.manifestRequests.get();
    genuineV2ArrivesEverywhere();
    for (int i = 0; i < mesh.agents().size(); i++) {
      NodeRuntime a = mesh.agents().get(i);
      assertTrue(a.metrics().manifestVerifyFailures() > failedBefore.get(i), "counted as a failed manifest");
      assertEquals(1, metric(a, "patchmesh_manifest_deltas_refused"), "one lie, then nothing asked of the rogue");
      assertTrue(a.transport().link(rogue.id()).isPresent(), "one strike: the link stays");
    }
    assertEquals(asked, rogue.manifestRequests.get(), "the rogue was not asked again");
    System.out.printf("MANIFEST-DELTA-ATTACK | a delta copying past its base, one rebuilding tampered bytes: both lies,"
        + " the rogue backed off after %d requests; v2 verified from the seed%n", asked);
  }
}
