package io.patchmesh.seed;

import static io.patchmesh.seed.SwarmTest.applied;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.ManifestFetchTimers;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.MaliciousPeer.Behaviour;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rogue peers with valid certificates attacking manifest downloads (issue 12): announcing
 * manifests and then trickling or never serving them, serving endless fake manifests, and
 * serving a manifest with 64 bad signatures naming the publisher's key. A real mesh (mutual TLS,
 * RocksDB, loopback): a seed and two agents in one site. In each test a genuine manifest
 * published during the attack reaches every agent.
 */
class ManifestDownloadAttackTest {
  static final String SITE = "branch-a";
  static final long FAKE_BYTES = 64L << 20;

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  final ScheduledExecutorService exec = Executors.newScheduledThreadPool(2);
  final List<MaliciousPeer> rogues = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    exec.shutdownNow();
    exec.awaitTermination(5, TimeUnit.SECONDS);
    rogues.forEach(MaliciousPeer::close);
    if (mesh != null) {
      mesh.close();
    }
  }

  private void startMesh(WanEmulator wan) {
    startMesh(wan, ManifestFetchTimers.defaults());
  }

  /** A seed and two agents whose manifest downloads judge sources by {@code timers}. */
  private void startMesh(WanEmulator wan, ManifestFetchTimers timers) {
    mesh = new LocalMesh(tmp.resolve("mesh"), wan, true);
    seed = mesh.startSeed("dc");
    for (int i = 1; i <= 2; i++) {
      mesh.startAgent(SITE + "-" + i, SITE, b -> b, o -> o.withManifestFetch(timers));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3
        && mesh.agents().stream().allMatch(a -> a.members().size() == 3));
  }

  private MaliciousPeer rogue(String name) {
    MaliciousPeer r = new MaliciousPeer(mesh.dir(), tmp.resolve(name), name, SITE, null, Behaviour.QUIET, id -> null);
    rogues.add(r);
    return r;
  }

  /** A patch built and signed, its chunks in the seed's store, not yet published. */
  private SignedManifest prepare(long version, long contentSeed) throws Exception {
    Path content = tmp.resolve("patch-v" + version).resolve("lib.bin");
    LocalMesh.randomFile(content, 1L << 20, contentSeed);
    ChunkStore chunks = seed.node().store().chunks();
    var m = new ManifestBuilder(ChunkParams.DEFAULT).channel("test/attack").version(version)
        .expires(Instant.now().plus(Duration.ofDays(1)))
        .build(List.of(content), (id, buf, off, len) -> chunks.put(id, java.util.Arrays.copyOfRange(buf, off, off + len)),
            ProgressListener.NONE);
    return ManifestSigner.sign(m, List.of(mesh.publisher()));
  }

  /** Publishes a prepared manifest through the seed, as LocalMesh.publish does. */
  private VerifiedManifest publish(SignedManifest sm) {
    NodeRuntime s = seed.node();
    VerifiedManifest vm = s.verifier().verify(sm, s.trustRoot(), s.store().manifests(), Instant.now());
    s.store().manifests().accept(vm);
    s.offerVerified(vm);
    return vm;
  }

  private static ManifestId idOf(SignedManifest sm) {
    return ManifestId.ofManifestBytes(sm.getManifest().toByteArray());
  }

  private static Frame announce(ManifestId id, long version, long size) {
    return Frame.newBuilder().setAnnounce(Announce.newBuilder().setManifestId(id.toByteString())
        .setChannel("test/attack").setVersion(version).setSize(size)).build();
  }

  private static Frame part(ByteString id, long offset, long total, byte[] data) {
    return Frame.newBuilder().setManifestPart(ManifestPart.newBuilder().setManifestId(id).setOffset(offset)
        .setTotalSize(total).setData(ByteString.copyFrom(data))).build();
  }

  /** Sends {@code frames} to every open link of {@code rogue} once a second (an announcement is heard again every 10 s). */
  private void announceEverySecond(MaliciousPeer rogue, List<PeerLink> links, List<Frame> frames) {
    exec.scheduleAtFixedRate(() -> {
      for (PeerLink l : links) {
        if (l.isOpen()) {
          frames.forEach(f -> rogue.send(l, f));
        }
      }
    }, 0, 1, TimeUnit.SECONDS);
  }

  private static boolean banned(NodeRuntime node, MaliciousPeer rogue) {
    return rogue.hungUpOn.contains(node.id()) && node.transport().link(rogue.id()).isEmpty() && node.metrics().bans() >= 1;
  }

  @Test
  void tricklingAndSilentAnnouncersHoldNoDownloadSlotAndAreBanned() throws Exception {
    // the slow-source rule on fast timers (2 s grace, 4 s stall; the field's are 10 s and 15 s): the
    // trickle below is one byte per grace, as it was one byte per 10 s against the field's timers
    ManifestFetchTimers timers = ManifestFetchTimers.fast();
    startMesh(new WanEmulator().siteMbit(SITE, 8), timers);
    MaliciousPeer rogue = rogue("trickler");
    List<PeerLink> links = new ArrayList<>();
    for (NodeRuntime a : mesh.agents()) {
      links.add(rogue.connect(a));
    }
    SignedManifest genuine = prepare(1, 31);
    ManifestId genuineId = idOf(genuine);
    List<ManifestId> fakes = new ArrayList<>();
    Random random = new Random(7);
    for (int i = 0; i < 8; i++) {
      byte[] id = new byte[32];
      random.nextBytes(id);
      fakes.add(ManifestId.of(id));
    }
    // half the fakes and the genuine id: one byte per request, each a grace late; the other fakes: never served
    rogue.onFrame((link, f) -> {
      if (!f.hasManifestRequest()) {
        return false;
      }
      ManifestRequest r = f.getManifestRequest();
      ManifestId id = ManifestId.of(r.getManifestId());
      if (fakes.indexOf(id) >= 4) {
        return true;
      }
      long total = id.equals(genuineId) ? genuine.getSerializedSize() : FAKE_BYTES;
      exec.schedule(() -> rogue.send(link, part(r.getManifestId(), r.getOffset(), total, new byte[] {1})),
          timers.graceMillis(), TimeUnit.MILLISECONDS);
      return true;
    });
    List<Frame> announcements = new ArrayList<>();
    announcements.add(announce(genuineId, 1, genuine.getSerializedSize()));
    for (int i = 0; i < fakes.size(); i++) {
      announcements.add(announce(fakes.get(i), 100 + i, FAKE_BYTES));
    }
    announceEverySecond(rogue, links, announcements);
    await().atMost(Duration.ofSeconds(20)).until(() -> rogue.manifestRequests.get() >= 4); // it holds downloads now

    VerifiedManifest vm = publish(genuine);
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> banned(a, rogue));
      for (ManifestId fake : fakes) {
        assertFalse(a.store().manifests().contains(fake));
      }
      assertTrue(a.manifestBytesInFlightPeak() <= a.manifestBytesInFlightLimit());
    }
    System.out.printf("MANIFEST-ATTACK | trickle and silence | genuine manifest applied by both agents; trickler banned"
        + " by both after %d manifest requests%n", rogue.manifestRequests.get());
  }

  /**
   * A fake signed manifest of 64 MiB (zeros behind a distinct 8-byte prefix, one signature by an
   * unknown key), generated as it is served so four rogues can serve eight at full speed.
   */
  private static final class FakeEnvelope {
    final ManifestId id;
    final byte[] head;
    final byte[] tail;
    final long manifestBytes;
    final byte[] prefix;

    FakeEnvelope(int n) throws Exception {
      manifestBytes = FAKE_BYTES - 256;
      prefix = java.nio.ByteBuffer.allocate(8).putLong(0x5eed0000L + n).array();
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(prefix);
      byte[] zeros = new byte[1 << 20];
      for (long left = manifestBytes - prefix.length; left > 0; left -= zeros.length) {
        d.update(zeros, 0, (int) Math.min(zeros.length, left));
      }
      id = ManifestId.of(d.digest());
      var head = com.google.protobuf.ByteString.newOutput();
      var out = com.google.protobuf.CodedOutputStream.newInstance(head);
      out.writeTag(SignedManifest.MANIFEST_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt32NoTag((int) manifestBytes);
      out.flush();
      this.head = head.toByteString().toByteArray();
      Signature sig = Signature.newBuilder().setKeyId("f".repeat(64)).setSignature(ByteString.copyFrom(new byte[64])).build();
      this.tail = SignedManifest.newBuilder().addSignatures(sig).build().toByteArray();
    }

    long size() {
      return head.length + manifestBytes + tail.length;
    }

    byte[] read(long offset, int len) {
      byte[] b = new byte[len]; // zeros, but for the head, the prefix and the tail
      copy(head, offset, b, 0);
      copy(prefix, offset, b, head.length);
      copy(tail, offset, b, head.length + manifestBytes);
      return b;
    }

    /** Copies the part of {@code src} (which sits at {@code at} in the envelope) that falls in {@code out} (at {@code offset}). */
    private static void copy(byte[] src, long offset, byte[] out, long at) {
      long from = Math.max(offset, at);
      long to = Math.min(offset + out.length, at + src.length);
      if (from < to) {
        System.arraycopy(src, (int) (from - at), out, (int) (from - offset), (int) (to - from));
      }
    }
  }

  /** A counter of {@code node}'s /metrics (0 when absent). */
  static double metric(NodeRuntime node, String name) {
    for (String line : node.metrics().scrape().split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  @Test
  void eightConcurrentFake64MiBManifestsStayWithinTheDownloadBudgetAndEachRogueCostsOneDownload() throws Exception {
    startMesh(null);
    List<FakeEnvelope> fakes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fakes.add(new FakeEnvelope(i));
    }
    java.util.concurrent.atomic.AtomicLong fullyServed = new java.util.concurrent.atomic.AtomicLong();
    for (int r = 0; r < 4; r++) {
      MaliciousPeer rogue = rogue("flooder-" + r);
      List<FakeEnvelope> mine = fakes.subList(2 * r, 2 * r + 2);
      rogue.onFrame((link, f) -> {
        if (!f.hasManifestRequest()) {
          return false;
        }
        ManifestRequest req = f.getManifestRequest();
        for (FakeEnvelope fe : mine) {
          if (fe.id.toByteString().equals(req.getManifestId())) {
            int len = (int) Math.min(256 * 1024, fe.size() - req.getOffset());
            rogue.send(link, part(req.getManifestId(), req.getOffset(), fe.size(), fe.read(req.getOffset(), len)));
            if (req.getOffset() + len == fe.size()) {
              fullyServed.incrementAndGet();
            }
          }
        }
        return true;
      });
      List<PeerLink> links = new ArrayList<>();
      for (NodeRuntime a : mesh.agents()) {
        links.add(rogue.connect(a));
      }
      announceEverySecond(rogue, links, mine.stream().map(fe -> announce(fe.id, 200 + fakes.indexOf(fe), fe.size())).toList());
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> fullyServed.get() >= 1);
    VerifiedManifest vm = publish(prepare(1, 32));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    // one fake per rogue reached each agent (8 downloads of 64 MiB); each rogue is then backed off,
    // and its second fake, announced every second, is not fetched
    await().atMost(Duration.ofSeconds(120)).until(() -> fullyServed.get() >= 8);
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(30))
          .until(() -> metric(a, "patchmesh_manifest_sources_backed_off") >= 4);
    }
    assertEquals(8, fullyServed.get(), "no rogue made an agent fetch a second fake");
    for (NodeRuntime a : mesh.agents()) {
      long limit = a.manifestBytesInFlightLimit();
      assertTrue(limit <= 96L << 20, "at most 96 MiB of manifest downloads: " + limit);
      assertTrue(a.manifestBytesInFlightPeak() <= limit, a.manifestBytesInFlightPeak() + " > " + limit);
      assertTrue(a.manifestBytesInFlightPeak() >= FAKE_BYTES, "a whole fake was held: the bound was exercised");
      for (FakeEnvelope fe : fakes) {
        assertFalse(a.store().manifests().contains(fe.id));
      }
      assertFalse(a.transport().link(rogues.get(0).id()).isEmpty(), "serving a badly signed manifest is not charged");
    }
    System.out.printf("MANIFEST-ATTACK | 8 fake 64 MiB manifests from 4 rogues | peak in flight %d MiB of %d MiB allowed"
        + " (the shipped unit's -Xmx256m gives 85 MiB); %d fakes fetched in all (one per rogue and agent); genuine"
        + " manifest applied by both agents%n",
        mesh.agents().get(0).manifestBytesInFlightPeak() >> 20, mesh.agents().get(0).manifestBytesInFlightLimit() >> 20,
        fullyServed.get());
  }

  /**
   * The rogue is first with a forged copy of the genuine manifest and holds it back until the agents
   * have heard of the same id from an honest relay; when the forged copy is refused, the relay is
   * asked at once. Nobody announces the id again (the seed does not hold it), so before this fix the
   * agents waited for an announcement that never came.
   */
  @Test
  void aForgedCopyServedFirstSendsTheDownloadToTheNextKnownSourceAtOnce() throws Exception {
    startMesh(null);
    VerifiedManifest warmup = publish(prepare(1, 35));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, warmup)));
    SignedManifest genuine = prepare(2, 34);
    ManifestId id = idOf(genuine);
    SignedManifest.Builder forged = genuine.toBuilder().clearSignatures();
    forged.addSignatures(Signature.newBuilder().setKeyId(mesh.publisher().keyId()).setSignature(ByteString.copyFrom(new byte[64])));
    SignedManifest forgedCopy = forged.build();

    MaliciousPeer forger = rogue("forger");
    List<PeerLink> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    forger.onFrame((link, f) -> {
      if (f.hasManifestRequest() && f.getManifestRequest().getManifestId().equals(id.toByteString())) {
        held.add(link); // answered once the relay's announcement is in
      }
      return true;
    });
    for (NodeRuntime a : mesh.agents()) {
      forger.send(forger.connect(a), announce(id, 2, forgedCopy.getSerializedSize()));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> held.size() >= mesh.agents().size());

    MaliciousPeer relay = rogue("relay");
    relay.serveManifest(genuine);
    java.util.Set<PeerLink> answered = java.util.concurrent.ConcurrentHashMap.newKeySet();
    relay.onFrame((link, f) -> {
      if (f.hasManifestPart() && f.getManifestPart().getManifestId().equals(warmup.id().toByteString())) {
        answered.add(link);
        return true;
      }
      return false;
    });
    for (NodeRuntime a : mesh.agents()) {
      PeerLink l = relay.connect(a);
      relay.send(l, announce(id, 2, genuine.getSerializedSize()));
      // the agent handles a link's frames in order: its answer to this shows the announcement was heard
      relay.send(l, Frame.newBuilder().setManifestRequest(ManifestRequest.newBuilder()
          .setManifestId(warmup.id().toByteString()).setOffset(0)).build());
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> answered.size() >= mesh.agents().size());

    for (PeerLink l : held) {
      forger.send(l, part(id.toByteString(), 0, forgedCopy.getSerializedSize(), forgedCopy.toByteArray()));
    }
    for (NodeRuntime a : mesh.agents()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> a.store().manifests().contains(id));
      assertTrue(metric(a, "patchmesh_manifest_downloads_retried") >= 1, "the next source was asked at once");
      assertTrue(a.transport().link(forger.id()).isPresent(), "a badly signed copy is not charged");
    }
    System.out.printf("MANIFEST-ATTACK | forged copy served first | both agents fetched the genuine copy from the"
        + " next known source at once; relay served %d copies%n", relay.manifestPartsServed.get());
  }

  @Test
  void sixtyFourBadSignaturesNamingThePublisherCostNoSignatureCheckAndTheGenuineCopyStillArrives() throws Exception {
    startMesh(null);
    SignedManifest genuine = prepare(1, 33);
    SignedManifest.Builder forged = genuine.toBuilder().clearSignatures();
    Random random = new Random(3);
    for (int i = 0; i < 64; i++) {
      byte[] sig = new byte[64];
      random.nextBytes(sig);
      forged.addSignatures(Signature.newBuilder().setKeyId(mesh.publisher().keyId()).setSignature(ByteString.copyFrom(sig)));
    }
    MaliciousPeer rogue = rogue("forger");
    rogue.serveManifest(forged.build()); // the genuine manifest's bytes (same id), forged signatures
    List<Long> checksBefore = new ArrayList<>();
    List<Double> failuresBefore = new ArrayList<>();
    for (NodeRuntime a : mesh.agents()) {
      checksBefore.add(a.verifier().signatureChecks());
      failuresBefore.add(a.metrics().manifestVerifyFailures());
      rogue.send(rogue.connect(a), announce(idOf(genuine), 1, forged.build().getSerializedSize()));
    }
    for (int i = 0; i < mesh.agents().size(); i++) {
      NodeRuntime a = mesh.agents().get(i);
      double before = failuresBefore.get(i);
      await().atMost(Duration.ofSeconds(20)).until(() -> a.metrics().manifestVerifyFailures() > before);
      assertEquals(checksBefore.get(i), a.verifier().signatureChecks(), "rejected before any Ed25519 check");
    }
    VerifiedManifest vm = publish(genuine);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    for (NodeRuntime a : mesh.agents()) {
      assertTrue(a.transport().link(rogue.id()).isPresent(), "a badly signed copy is not charged (honest relays send them)");
    }
    System.out.printf("MANIFEST-ATTACK | 64 bad signatures naming the publisher key | 0 signature checks; the genuine"
        + " copy of the same id applied by both agents%n");
  }
}
