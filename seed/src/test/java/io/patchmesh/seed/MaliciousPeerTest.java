package io.patchmesh.seed;

import static io.patchmesh.seed.SwarmTest.applied;
import static io.patchmesh.seed.SwarmTest.sha;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import io.patchmesh.proto.Request;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.RuntimeOptions;
import io.patchmesh.seed.MaliciousPeer.Behaviour;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer with a valid mesh certificate doing its worst, one behaviour per test, against a real
 * mesh (mutual TLS, RocksDB, an emulated 4-8 Mbit/s branch WAN): a seed and two branch agents
 * rolling out a 2 MiB patch. Each test checks that both agents apply byte-correct files, that
 * nothing unverified sits in any store or apply directory, that the attacker ends disconnected
 * (or, for Hello spoofing, never connected), and prints one report line with the JVM's memory
 * figures (all nodes and the attacker share the JVM) and what the attacker sent.
 */
class MaliciousPeerTest {
  static final long SIZE = 2L << 20;
  static final String SITE = "branch-a";

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  MemoryProbe probe;

  @AfterEach
  void tearDown() {
    if (probe != null) {
      probe.close();
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  /** A seed in "dc" and two agents in {@value #SITE} behind a WAN of {@code mbit}; returns once all know each other. */
  private void startMesh(int mbit, UnaryOperator<RuntimeOptions> agentOptions) {
    mesh = new LocalMesh(tmp.resolve("mesh"), new WanEmulator().siteMbit(SITE, mbit), true);
    seed = mesh.startSeed("dc");
    for (int i = 1; i <= 2; i++) {
      mesh.startAgent(SITE + "-" + i, SITE, b -> b, agentOptions);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 3
        && mesh.agents().stream().allMatch(a -> a.members().size() == 3));
    probe = new MemoryProbe();
  }

  private VerifiedManifest publish(long version, long contentSeed) throws IOException {
    Path content = content(version);
    LocalMesh.randomFile(content, SIZE, contentSeed);
    return mesh.publish(seed, content, "test/malicious", version);
  }

  private Path content(long version) {
    return tmp.resolve("patch-v" + version).resolve("lib.bin");
  }

  /** A rogue inside the agents' site: a LAN peer, the source they prefer. */
  private MaliciousPeer rogue(VerifiedManifest vm, Behaviour b) {
    return new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", SITE, vm, b,
        id -> seed.node().store().chunks().get(id));
  }

  /**
   * A rogue in a site of its own (unshaped), for attacks on connections rather than on the swarm:
   * a peer that joins the agents' site and goes quiet delays that site by its site-wait (it is
   * counted as a member that owns a share of the chunks), which is measured elsewhere.
   */
  private MaliciousPeer outsider(VerifiedManifest vm) {
    return new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", "branch-x", vm, Behaviour.QUIET, id -> null);
  }

  /**
   * Every agent applied {@code vm} and its apply directory holds exactly the published file, and no
   * store (seed's included) holds a chunk that does not hash to its id or that no manifest names.
   */
  private void assertHonestNodesCorrect(VerifiedManifest vm, VerifiedManifest... alsoHeld) throws Exception {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    byte[] want = sha(content(vm.version()));
    for (NodeRuntime a : mesh.agents()) {
      Path applyDir = a.config().applyDir();
      try (Stream<Path> files = Files.list(applyDir)) {
        assertEquals(List.of(applyDir.resolve("lib.bin")), files.toList(), "only the patch in " + applyDir);
      }
      assertArrayEquals(want, sha(applyDir.resolve("lib.bin")), applyDir.toString());
    }
    List<NodeRuntime> nodes = new ArrayList<>(mesh.agents());
    nodes.add(seed.node());
    for (NodeRuntime n : nodes) {
      Set<ChunkId> named = new HashSet<>();
      for (VerifiedManifest m : Stream.concat(Stream.of(vm), Stream.of(alsoHeld)).toList()) {
        ChunkTable t = ChunkTable.of(m.manifest());
        for (int i = 0; i < t.count(); i++) {
          named.add(t.id(i));
        }
      }
      long held = 0;
      for (ChunkId id : named) {
        byte[] data = n.store().chunks().get(id);
        if (data != null) {
          held++;
          assertTrue(id.matches(data), "stored chunk " + id + " hashes to its id");
        }
      }
      assertEquals(held, n.store().chunks().count(), "every stored chunk is one a manifest names");
    }
  }

  private void report(String behaviour, String outcome, MaliciousPeer rogue) {
    System.out.printf("MALICIOUS-PEER | %s | %s | %s | attacker sent %d frames/connections, %d KiB%n", behaviour,
        outcome, probe.stop(), rogue.framesSent.get(), rogue.bytesSent.get() >> 10);
  }

  private static boolean disconnected(NodeRuntime node, MaliciousPeer rogue) {
    return rogue.hungUpOn.contains(node.id()) && node.transport().link(rogue.id()).isEmpty();
  }

  // ------------------------------------------------------------------ (a), (b) bad pieces

  @Test
  void peerServingCorruptChunksIsBannedAndNothingCorruptIsStored() throws Exception {
    startMesh(8, o -> o);
    VerifiedManifest vm = publish(1, 11);
    try (MaliciousPeer rogue = rogue(vm, Behaviour.CORRUPT_CHUNKS)) {
      for (NodeRuntime a : mesh.agents()) {
        rogue.connect(a);
      }
      assertHonestNodesCorrect(vm);
      for (NodeRuntime a : mesh.agents()) {
        assertTrue(a.metrics().bans() >= 1, "banned");
        assertTrue(disconnected(a, rogue), "a banned peer's link is closed");
      }
      report("corrupt chunks", "banned by both agents after " + rogue.piecesServed + " bad pieces", rogue);
    }
  }

  @Test
  void peerServingGenuineBytesOfAnotherChunkIsBannedAndNothingCorruptIsStored() throws Exception {
    startMesh(8, o -> o);
    VerifiedManifest vm = publish(1, 12);
    try (MaliciousPeer rogue = rogue(vm, Behaviour.WRONG_CHUNKS)) {
      for (NodeRuntime a : mesh.agents()) {
        rogue.connect(a);
      }
      assertHonestNodesCorrect(vm);
      for (NodeRuntime a : mesh.agents()) {
        assertTrue(a.metrics().bans() >= 1, "banned");
        assertTrue(disconnected(a, rogue), "a banned peer's link is closed");
      }
      report("wrong chunks", "banned by both agents after " + rogue.piecesServed + " misplaced pieces", rogue);
    }
  }

  // ------------------------------------------------------------------ (c) lying have-maps

  @Test
  void peerThatClaimsEveryChunkThenRejectsTheRequestsIsDisconnected() throws Exception {
    startMesh(4, o -> o);
    VerifiedManifest vm = publish(1, 13);
    try (MaliciousPeer rogue = rogue(vm, Behaviour.CLAIM_THEN_REJECT)) {
      for (NodeRuntime a : mesh.agents()) {
        rogue.connect(a);
      }
      assertHonestNodesCorrect(vm);
      for (NodeRuntime a : mesh.agents()) {
        await().atMost(Duration.ofSeconds(10)).until(() -> disconnected(a, rogue));
      }
      assertTrue(mesh.agents().stream().allMatch(a -> a.metrics().bans() >= 1), "and banned, so not redialled");
      report("have-map lies, then Reject", "banned by both agents after " + rogue.framesSent + " frames (false claims)", rogue);
    }
  }

  @Test
  void peerThatClaimsEveryChunkThenNeverAnswersIsDisconnected() throws Exception {
    // Short request timeouts so the stall shows within the rollout (defaults: 30 s unmeasured, 5 s floor),
    // and the swarm's fast timers: the stalled-peer rule's 15 s silence becomes 1.5 s (the rule is the same).
    startMesh(4, o -> o.withTransfer(o.transfer().withRequestTimeouts(1_000, 500, 4.0)).withSwarm(SwarmConfig.fast()));
    VerifiedManifest vm = publish(1, 14);
    try (MaliciousPeer rogue = rogue(vm, Behaviour.CLAIM_THEN_STALL)) {
      for (NodeRuntime a : mesh.agents()) {
        rogue.connect(a);
      }
      assertHonestNodesCorrect(vm);
      for (NodeRuntime a : mesh.agents()) {
        await().atMost(Duration.ofSeconds(10)).until(() -> disconnected(a, rogue));
      }
      assertTrue(mesh.agents().stream().allMatch(a -> a.metrics().bans() >= 1), "and banned, so not redialled");
      report("have-map lies, then silence", "banned by both agents after 4 timed-out requests each", rogue);
    }
  }

  // ------------------------------------------------------------------ (d) request flood

  @Test
  void peerFloodingTheSeedWithRequestsIsDisconnectedWhileTheRolloutCompletes() throws Exception {
    startMesh(8, o -> o);
    VerifiedManifest vm = publish(1, 15);
    int chunks = ChunkTable.of(vm.manifest()).count();
    try (MaliciousPeer rogue = outsider(vm)) {
      PeerLink link = rogue.connect(seed.node());
      int sent = 0;
      // Every chunk over and over, and as many indexes past the manifest's end. Repeats of valid chunks alone
      // are served (each within the upload slots' fair share); the invalid half is what the guard counts.
      for (; sent < 20_000 && link.isOpen(); sent++) {
        rogue.send(link, Frame.newBuilder().setRequest(Request.newBuilder().setManifestId(vm.id().toByteString())
            .setChunkIndex(sent % (2 * chunks)).setRequestId(sent)).build());
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> seed.node().transport().link(rogue.id()).isEmpty());
      assertHonestNodesCorrect(vm);
      assertTrue(seed.node().metrics().bans() >= 1, "and banned");
      report("request flood", "seed banned it after " + rogue.rejects.size() + " Rejects", rogue);
    }
  }

  // ------------------------------------------------------------------ (e) bad frames

  /** A link brought up by hand: TLS + Hello on a control and a data connection. */
  private static RawMeshConnection[] rawLink(MaliciousPeer rogue, NodeRuntime node) throws Exception {
    RawMeshConnection control = rogue.raw(node);
    assertNotNull(control.handshake(RawMeshConnection.hello(rogue.id(), rogue.site, Hello.Purpose.PURPOSE_CONTROL)));
    RawMeshConnection data = rogue.raw(node);
    assertNotNull(data.handshake(RawMeshConnection.hello(rogue.id(), rogue.site, Hello.Purpose.PURPOSE_DATA)));
    await().atMost(Duration.ofSeconds(5)).until(() -> node.transport().link(rogue.id()).isPresent());
    return new RawMeshConnection[] {control, data};
  }

  @Test
  void oversizedMalformedAndTruncatedFramesCloseTheSendersLinkOnly() throws Exception {
    startMesh(8, o -> o);
    NodeRuntime victim = mesh.agents().get(0);
    PeerLink honest = victim.transport().link(seed.node().id()).orElseThrow();
    VerifiedManifest vm = publish(1, 16);
    try (MaliciousPeer rogue = outsider(vm)) {
      List<io.netty.buffer.ByteBuf> attacks = List.of(
          Unpooled.buffer().writeInt(Integer.MAX_VALUE), // oversized: 2 GiB announced
          Unpooled.buffer().writeInt(64).writeBytes(new byte[64]), // parses to a frame with no body
          Unpooled.buffer().writeInt(64).writeBytes(filled(64, (byte) 0xff))); // does not parse
      for (io.netty.buffer.ByteBuf attack : attacks) {
        RawMeshConnection[] link = rawLink(rogue, victim);
        link[0].sendRaw(attack);
        assertTrue(link[0].closedWithin(5), "the victim closed the connection");
        await().atMost(Duration.ofSeconds(5)).until(() -> victim.transport().link(rogue.id()).isEmpty());
        link[1].close();
      }
      // truncated: a frame cut short by the sender closing; nothing of it may be delivered or kept
      RawMeshConnection[] link = rawLink(rogue, victim);
      link[1].sendRaw(Unpooled.buffer().writeInt(256 * 1024).writeBytes(new byte[1000]));
      link[1].close();
      link[0].close();
      await().atMost(Duration.ofSeconds(5)).until(() -> victim.transport().link(rogue.id()).isEmpty());
      assertHonestNodesCorrect(vm);
      assertSame(honest, victim.transport().link(seed.node().id()).orElseThrow(), "other links untouched");
      report("oversized, malformed, truncated frames", "each connection closed at its first bad frame", rogue);
    }
  }

  /** Reads until the peer closes (end of stream or reset); false if it stays open past the socket timeout. */
  private static boolean closedByPeer(Socket s) throws IOException {
    try {
      while (s.getInputStream().read() != -1) {
        // a TLS alert, perhaps: keep reading
      }
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset: closed with our bytes unread
    }
  }

  private static byte[] filled(int n, byte b) {
    byte[] a = new byte[n];
    java.util.Arrays.fill(a, b);
    return a;
  }

  // ------------------------------------------------------------------ (f) slowloris

  @Test
  void slowlorisConnectionsAreCappedAndTimedOutAndHalfFramesCloseTheLink() throws Exception {
    // The victim (first agent) gets short transport timers; the cap is the default 64 pending per address.
    // The handshake timer outlasts the 300 connects even on a loaded machine (at 2 s, pending slots freed
    // by timeouts during the loop let later sockets in, and fewer were refused at once than the cap implies).
    startMesh(8, o -> o.withTransportTuning(
        b -> b.handshakeTimeout(Duration.ofSeconds(8)).idleTimeout(Duration.ofSeconds(4))));
    NodeRuntime victim = mesh.agents().get(0);
    VerifiedManifest vm = publish(1, 17);
    try (MaliciousPeer rogue = outsider(vm)) {
      // 1. 300 TCP connections that never finish TLS: half say nothing, half send a TLS record header.
      long refusedBefore = victim.transport().handshakesRefused();
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < 300; i++) {
          Socket s = new Socket();
          s.connect(victim.transport().boundAddress(), 2000);
          s.setSoTimeout(20_000);
          if (i % 2 == 1) {
            s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00});
          }
          sockets.add(s);
          rogue.framesSent.incrementAndGet();
          rogue.bytesSent.addAndGet(i % 2 == 1 ? 5 : 0);
        }
        assertTrue(victim.transport().pendingHandshakes() <= 64, "pending handshakes capped");
        for (Socket s : sockets) {
          assertTrue(closedByPeer(s), "every slowloris socket is closed by the victim");
        }
      } finally {
        for (Socket s : sockets) {
          s.close();
        }
      }
      long refused = victim.transport().handshakesRefused() - refusedBefore;
      assertTrue(refused >= 300 - 64, "refused at once: " + refused);
      await().atMost(Duration.ofSeconds(5)).until(() -> victim.transport().pendingHandshakes() == 0);

      // 2. Established links that send half a frame and stop: on the control connection, and on the data
      // connection while the control connection stays busy.
      MaliciousPeer second = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue2"), "rogue2", "branch-x", vm,
          Behaviour.QUIET, id -> null);
      try (second) {
        RawMeshConnection[] onControl = rawLink(rogue, victim);
        RawMeshConnection[] onData = rawLink(second, victim);
        onControl[0].sendRaw(Unpooled.buffer().writeInt(1000).writeBytes(new byte[500]));
        onData[1].sendRaw(Unpooled.buffer().writeInt(200_000).writeBytes(new byte[500]));
        Frame keepAlive = Frame.newBuilder()
            .setHaveMap(new io.patchmesh.transfer.HaveMap(ChunkTable.of(vm.manifest()).count()).toProto(vm.id())).build();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(300)).until(() -> {
          onData[0].send(keepAlive);
          return !onData[1].channel.isActive() && !onControl[0].channel.isActive();
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> victim.transport().link(rogue.id()).isEmpty()
            && victim.transport().link(second.id()).isEmpty());
        onControl[1].close();
        onData[0].close();
        rogue.framesSent.addAndGet(second.framesSent.get());
        rogue.bytesSent.addAndGet(second.bytesSent.get());
      }
      assertHonestNodesCorrect(vm);
      report("slowloris", refused + " of 300 sockets refused at once, the rest closed at the 2 s handshake timeout;"
          + " half frames closed by the idle timer", rogue);
    }
  }

  // ------------------------------------------------------------------ (g) claiming another node's id

  @Test
  void helloClaimingAnotherNodesIdIsRefusedAndTheHonestLinkStays() throws Exception {
    startMesh(8, o -> o);
    NodeRuntime victim = mesh.agents().get(0);
    NodeRuntime neighbour = mesh.agents().get(1);
    NodeId seedId = seed.node().id();
    PeerLink honest = victim.transport().link(seedId).orElseThrow();
    VerifiedManifest vm = publish(1, 18);
    try (MaliciousPeer rogue = outsider(vm)) {
      long failuresBefore = victim.transport().inboundHandshakeFailures();
      // its own valid certificate, claiming the neighbouring agent's id
      RawMeshConnection a = rogue.raw(victim);
      assertNull(a.handshake(RawMeshConnection.hello(neighbour.id(), rogue.site, Hello.Purpose.PURPOSE_CONTROL)));
      assertTrue(a.closedWithin(5));
      // a valid certificate issued under the seed's name and site, claiming the seed's id
      NodeIdentity twin = rogue.issueAnother(seed.node().config().dataDir().getParent().getFileName().toString(), "dc");
      RawMeshConnection b = rogue.raw(victim, twin);
      assertNull(b.handshake(RawMeshConnection.hello(seedId, "dc", Hello.Purpose.PURPOSE_CONTROL)));
      assertTrue(b.closedWithin(5));
      assertEquals(failuresBefore + 2, victim.transport().inboundHandshakeFailures(), "both refused at the Hello");
      // the same certificate under its own id is simply another node: the seed's link is not displaced
      RawMeshConnection c = rogue.raw(victim, twin);
      assertNotNull(c.handshake(RawMeshConnection.hello(twin.nodeId(), "dc", Hello.Purpose.PURPOSE_CONTROL)));
      assertFalse(twin.nodeId().equals(seedId), "ids come from keys, not names");
      c.close();

      assertSame(honest, victim.transport().link(seedId).orElseThrow(), "honest link untouched");
      assertTrue(honest.isOpen());
      assertHonestNodesCorrect(vm);
      report("claims another node's id", "both spoofing Hellos refused at the handshake; honest link kept", rogue);
    }
  }

  // ------------------------------------------------------------------ (h) replayed announcements

  @Test
  void replayedSupersededAnnouncementsChangeNothing() throws Exception {
    startMesh(8, o -> o);
    VerifiedManifest v1 = publish(1, 19);
    assertHonestNodesCorrect(v1);
    // a v1 no agent has seen (signed back then, superseded before it was rolled out) and the v2 everyone gets
    Path otherV1 = tmp.resolve("other-v1/lib.bin");
    LocalMesh.randomFile(otherV1, 64 * 1024, 20);
    var unseen = ManifestSigner.sign(new io.patchmesh.content.ManifestBuilder(io.patchmesh.content.ChunkParams.DEFAULT)
        .channel("test/malicious").version(1).expires(java.time.Instant.now().plus(Duration.ofDays(1)))
        .build(List.of(otherV1), (id, b, o, l) -> {}, io.patchmesh.content.ProgressListener.NONE),
        List.of(mesh.publisher()));
    VerifiedManifest v2 = publish(2, 21);
    assertHonestNodesCorrect(v2, v1);
    try (MaliciousPeer rogue = rogue(v1, Behaviour.QUIET)) {
      rogue.serveManifest(v1.signed());
      rogue.serveManifest(unseen);
      io.patchmesh.trust.ManifestId unseenId = io.patchmesh.trust.ManifestId.ofManifestBytes(unseen.getManifest().toByteArray());
      List<Frame> replays = List.of(
          announce(v1.id(), 1, v1.signed().getSerializedSize()),
          announce(v1.id(), 99, v1.signed().getSerializedSize()), // lies about the version to look new
          announce(unseenId, 1, unseen.getSerializedSize()),
          announce(unseenId, 99, unseen.getSerializedSize()));
      // 48 replays per agent: fewer than one link's membership frames that may wait for a node's loop
      // (MeshFrameGate.MAX_QUEUED = 64), so a loaded agent's slow loop cannot turn the replays into a
      // dropped flood (a flood is charged and banned: MeshFrameGateTest) and this case tests only replays
      for (NodeRuntime a : mesh.agents()) {
        PeerLink link = rogue.connect(a);
        for (int i = 0; i < 48; i++) {
          rogue.send(link, replays.get(i % replays.size()));
        }
      }
      int agents = mesh.agents().size();
      await().atMost(Duration.ofSeconds(10)).until(() -> rogue.manifestPartsServed.get() >= agents);
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
          .until(() -> mesh.agents().stream().allMatch(a -> applied(a, v2)
              && !a.store().manifests().contains(unseenId)));
      assertHonestNodesCorrect(v2, v1);
      assertTrue(rogue.manifestPartsServed.get() <= agents, "the unseen v1 was fetched once per agent, not per replay");
      report("replayed superseded announcements", "ignored: v2 stays applied, the unseen v1 is refused as a rollback"
          + " (fetched at most once per agent); not disconnected", rogue);
    }
  }

  private static Frame announce(io.patchmesh.trust.ManifestId id, long version, long size) {
    return Frame.newBuilder().setAnnounce(Announce.newBuilder().setManifestId(id.toByteString())
        .setChannel("test/malicious").setVersion(version).setSize(size)).build();
  }
}
