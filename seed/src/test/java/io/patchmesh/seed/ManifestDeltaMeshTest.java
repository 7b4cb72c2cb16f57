package io.patchmesh.seed;

import static io.patchmesh.seed.ManifestDownloadAttackTest.metric;
import static io.patchmesh.seed.SwarmTest.applied;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.MaliciousPeer.Behaviour;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that holds v1 fetches v2's manifest as a delta against v1's signed bytes and verifies
 * it; old peers on either side (a server that ignores the base, a requester that names none) get
 * and serve full manifests as before. A real mesh: mutual TLS, RocksDB, loopback; a seed and two
 * agents in one site.
 */
class ManifestDeltaMeshTest {
  static final String SITE = "branch-a";
  static final String CHANNEL = "test/mdelta";

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  final List<MaliciousPeer> peers = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    peers.forEach(MaliciousPeer::close);
    if (mesh != null) {
      mesh.close();
    }
  }

  static LocalMesh startMesh(Path dir, List<SeedNode> seedOut) {
    LocalMesh m = new LocalMesh(dir, null, true);
    SeedNode s = m.startSeed("dc");
    for (int i = 1; i <= 2; i++) {
      m.startAgent(SITE + "-" + i, SITE);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> s.node().members().size() == 3
        && m.agents().stream().allMatch(a -> a.members().size() == 3));
    seedOut.add(s);
    return m;
  }

  /** v1 (4 MiB of random bytes, 64 KiB chunks) and v2 = v1 with 2,350 bytes inserted mid-file, signed; chunks in the seed's store. */
  static SignedManifest[] versions(LocalMesh mesh, SeedNode seed, Path dir) throws Exception {
    Path f1 = dir.resolve("v1/lib.bin");
    LocalMesh.randomFile(f1, 4L << 20, 7);
    byte[] v1 = Files.readAllBytes(f1);
    ByteArrayOutputStream v2 = new ByteArrayOutputStream();
    v2.write(v1, 0, v1.length / 2);
    byte[] ins = new byte[2350];
    new java.util.Random(8).nextBytes(ins);
    v2.writeBytes(ins);
    v2.write(v1, v1.length / 2, v1.length - v1.length / 2);
    Path f2 = dir.resolve("v2/lib.bin");
    Files.createDirectories(f2.getParent());
    Files.write(f2, v2.toByteArray());
    return new SignedManifest[] {sign(mesh, seed, f1, 1), sign(mesh, seed, f2, 2)};
  }

  private static SignedManifest sign(LocalMesh mesh, SeedNode seed, Path content, long version) throws Exception {
    ChunkStore chunks = seed.node().store().chunks();
    var m = new ManifestBuilder(ChunkParams.DEFAULT).channel(CHANNEL).version(version)
        .expires(Instant.now().plus(Duration.ofDays(1)))
        .build(List.of(content), (id, buf, off, len) -> chunks.put(id, Arrays.copyOfRange(buf, off, off + len)),
            ProgressListener.NONE);
    return ManifestSigner.sign(m, List.of(mesh.publisher()));
  }

  /** Publishes a signed manifest through the seed, as LocalMesh.publish does. */
  static VerifiedManifest publish(SeedNode seed, SignedManifest sm) {
    NodeRuntime s = seed.node();
    VerifiedManifest vm = s.verifier().verify(sm, s.trustRoot(), s.store().manifests(), Instant.now());
    s.store().manifests().accept(vm);
    s.offerVerified(vm);
    return vm;
  }

  static ManifestId idOf(SignedManifest sm) {
    return ManifestId.ofManifestBytes(sm.getManifest().toByteArray());
  }

  static Frame announce(SignedManifest sm, long version) {
    return Frame.newBuilder().setAnnounce(Announce.newBuilder().setManifestId(idOf(sm).toByteString())
        .setChannel(CHANNEL).setVersion(version).setSize(sm.getSerializedSize())).build();
  }

  /** Starts the mesh, signs v1 and v2, and rolls v1 out to every agent; returns both versions. */
  private SignedManifest[] meshWithV1Applied() throws Exception {
    List<SeedNode> s = new ArrayList<>();
    mesh = startMesh(tmp.resolve("mesh"), s);
    seed = s.get(0);
    SignedManifest[] v = versions(mesh, seed, tmp);
    rollOutV1(v[0]);
    return v;
  }

  private void rollOutV1(SignedManifest v1) {
    VerifiedManifest vm = publish(seed, v1);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    for (NodeRuntime a : mesh.agents()) {
      assertEquals(0, metric(a, "patchmesh_manifest_deltas"), "v1 has no base: fetched in full");
    }
  }

  @Test
  void v2sManifestArrivesAsADeltaAgainstV1AndVerifies() throws Exception {
    SignedManifest[] v = meshWithV1Applied();
    VerifiedManifest v2 = publish(seed, v[1]);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, v2)));
    for (NodeRuntime a : mesh.agents()) {
      assertEquals(1, metric(a, "patchmesh_manifest_deltas"), a.id().shortHex() + " got v2's manifest as a delta");
      assertEquals(0, metric(a, "patchmesh_manifest_deltas_refused"));
      assertArrayEquals(v[1].toByteArray(), a.store().manifests().get(v2.id()).orElseThrow().toByteArray());
    }
    int delta = ManifestDelta.encode(v[1].toByteArray(), v[0].getManifest().toByteArray()).orElseThrow().getSerializedSize();
    System.out.printf("MANIFEST-DELTA | v2 envelope %d B, as a delta against v1 %d B%n", v[1].getSerializedSize(), delta);
  }

  @Test
  void oldPeersOnEitherSideGetAndServeFullManifests() throws Exception {
    SignedManifest[] v = meshWithV1Applied();
    ManifestId v1 = idOf(v[0]);
    ManifestId v2 = idOf(v[1]);

    // An old server: ignores base_id and answers with the whole envelope (MaliciousPeer's own answer).
    MaliciousPeer old = new MaliciousPeer(mesh.dir(), tmp.resolve("old"), "old", SITE, null, Behaviour.QUIET, id -> null);
    peers.add(old);
    old.serveManifest(v[1]);
    List<ByteString> basesNamed = new CopyOnWriteArrayList<>();
    Map<ByteString, ManifestPart> answers = new ConcurrentHashMap<>();
    old.onFrame((link, f) -> {
      if (f.hasManifestRequest() && f.getManifestRequest().getManifestId().equals(v2.toByteString())) {
        basesNamed.add(f.getManifestRequest().getBaseId());
      }
      if (f.hasManifestPart()) {
        answers.put(f.getManifestPart().getDeltaBaseId(), f.getManifestPart());
        return true;
      }
      return false;
    });
    List<PeerLink> links = new ArrayList<>();
    for (NodeRuntime a : mesh.agents()) {
      PeerLink l = old.connect(a);
      links.add(l);
      old.send(l, announce(v[1], 2));
    }
    double deltas = 0;
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> a.store().manifests().contains(v2));
      deltas += metric(a, "patchmesh_manifest_deltas");
    }
    // the member that fetched first got the old server's full copy; its site-mate may have waited
    // and taken it from there as a delta
    assertTrue(old.manifestPartsServed.get() >= 1 && deltas <= 1, old.manifestPartsServed.get() + " full, " + deltas + " deltas");
    assertTrue(!basesNamed.isEmpty() && basesNamed.stream().allMatch(b -> b.equals(v1.toByteString())),
        "every request named v1, the newest earlier version held: " + basesNamed);

    // An old requester names no base: the whole envelope. A new one naming v1: one delta part that rebuilds v2.
    PeerLink l = links.get(0);
    old.send(l, Frame.newBuilder().setManifestRequest(ManifestRequest.newBuilder().setManifestId(v2.toByteString())).build());
    old.send(l, Frame.newBuilder().setManifestRequest(ManifestRequest.newBuilder().setManifestId(v2.toByteString())
        .setBaseId(v1.toByteString())).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> answers.size() == 2);
    ManifestPart full = answers.get(ByteString.EMPTY);
    assertFalse(full.hasDelta());
    assertEquals(v[1].toByteString(), full.getData());
    ManifestPart delta = answers.get(v1.toByteString());
    assertTrue(delta.hasDelta() && delta.getData().isEmpty() && delta.getOffset() == 0);
    assertArrayEquals(v[1].toByteArray(),
        ManifestDelta.decode(delta.getDelta(), v[0].getManifest().toByteArray(), delta.getTotalSize()));
    System.out.printf("MANIFEST-DELTA | old peers: full envelope %d B; the agent's delta part %d B%n",
        full.getSerializedSize(), delta.getSerializedSize());
  }
}
