package io.patchmesh.seed;

import static io.patchmesh.seed.SwarmTest.applied;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberState;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import io.patchmesh.proto.Role;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.MaliciousPeer.Behaviour;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member with a valid certificate lying in membership gossip, against a real mesh (mutual TLS,
 * a seed in "dc" and two agents in "branch-a"): it cannot evict or rewrite another node, a flood
 * of invented members is dropped while a manifest still reaches every agent, and once the CA
 * revokes it, the revocation list spreads and every node drops it and refuses its links.
 */
class MembershipAttackTest {
  static final String SITE = "branch-a";

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  MemoryProbe probe;
  MaliciousPeer rogue;

  @AfterEach
  void tearDown() {
    if (rogue != null) {
      rogue.close();
    }
    if (probe != null) {
      probe.close();
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  private List<NodeRuntime> nodes() {
    List<NodeRuntime> all = new ArrayList<>();
    all.add(seed.node());
    all.addAll(mesh.agents());
    return all;
  }

  /** A seed and two agents that know each other, and a rogue of the agents' site linked to all three. */
  private List<PeerLink> startMeshWithRogue() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    seed = mesh.startSeed("dc");
    for (int i = 1; i <= 2; i++) {
      mesh.startAgent(SITE + "-" + i, SITE);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> nodes().stream().allMatch(n -> n.members().size() == 3));
    rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", SITE, null, Behaviour.QUIET, id -> null);
    List<PeerLink> links = new ArrayList<>();
    for (NodeRuntime n : nodes()) {
      links.add(rogue.connect(n));
    }
    probe = new MemoryProbe();
    return links;
  }

  private VerifiedManifest publish(long version) throws IOException {
    Path content = tmp.resolve("patch-v" + version).resolve("lib.bin");
    LocalMesh.randomFile(content, 256 << 10, version);
    return mesh.publish(seed, content, "test/membership", version);
  }

  private static Optional<Member> viewOf(NodeRuntime at, NodeId id) {
    return at.members().stream().filter(m -> m.info().id().equals(id)).findFirst();
  }

  private static double rejected(NodeRuntime n, String reason) {
    return PrometheusText.sum(PrometheusText.parse(n.metrics().scrape()), "patchmesh_membership_rejected{reason=\"" + reason + "\"}");
  }

  @Test
  void gossipNamingAnotherNodeLeftOrRewritingItsSiteRolesAndAddressIsIgnored() throws Exception {
    List<PeerLink> links = startMeshWithRogue();
    NodeRuntime victim = mesh.agents().get(1);
    Member own = viewOf(victim, victim.id()).orElseThrow();
    byte[] junk = new byte[64];
    new Random(1).nextBytes(junk);
    ByteString id = victim.id().toByteString();
    List<MemberUpdate> lies = List.of(
        MemberUpdate.newBuilder().setNodeId(id).setSite(SITE).setIncarnation(Long.MAX_VALUE)
            .setState(MemberState.MEMBER_LEFT).setFrom(rogue.identity.nodeId().toByteString()).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite(SITE).setIncarnation(own.incarnation() + 1)
            .setState(MemberState.MEMBER_LEFT).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite("dc").addRoles(Role.ROLE_SEED).addAddresses("127.0.0.1:1")
            .setIncarnation(own.incarnation() + 5).setState(MemberState.MEMBER_ALIVE).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite("dc").addRoles(Role.ROLE_SEED).addAddresses("127.0.0.1:1")
            .setIncarnation(own.incarnation() + 6).setState(MemberState.MEMBER_ALIVE)
            .setSignature(ByteString.copyFrom(junk)).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite(SITE).setIncarnation(1L << 40)
            .setState(MemberState.MEMBER_DEAD).build());
    for (PeerLink l : links) {
      rogue.send(l, Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addAllUpdates(lies)).build());
      rogue.send(l, Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).addAllMembers(lies)).build());
    }
    // a manifest published after the lies reaches every agent (the victim included) ...
    VerifiedManifest vm = publish(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    // ... and every node still sees the victim as it says itself, alive
    for (NodeRuntime n : nodes()) {
      Member seen = viewOf(n, victim.id()).orElseThrow();
      assertEquals(MemberStatus.ALIVE, seen.status(), "victim alive at " + n.id().shortHex());
      assertEquals(own.info(), seen.info(), "victim's own site, roles and addresses at " + n.id().shortHex());
      assertTrue(seen.incarnation() < 1L << 40, "incarnation not pushed");
    }
    for (NodeRuntime n : List.of(seed.node(), mesh.agents().get(0))) {
      assertTrue(rejected(n, "unsigned") >= 2, "unsigned lies counted");
      assertTrue(rejected(n, "malformed") >= 1, "incarnation 2^63-1 counted");
    }
    System.out.printf("MEMBERSHIP-ATTACK | evict+rewrite | victim kept its site, roles and addresses | %s%n", probe.stop());
  }

  @Test
  void floodOfFiftyThousandInventedMembersIsDroppedWhileAManifestReachesEveryAgent() throws Exception {
    List<PeerLink> links = startMeshWithRogue();
    int invented = 50_000;
    CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
      Random random = new Random(7);
      List<MemberUpdate> frame = new ArrayList<>();
      for (int i = 0; i < invented; i++) {
        byte[] id = new byte[32];
        byte[] sig = new byte[64];
        random.nextBytes(id);
        random.nextBytes(sig);
        frame.add(MemberUpdate.newBuilder().setNodeId(ByteString.copyFrom(id)).setSite(SITE)
            .addAddresses("10.66." + (i >> 8 & 255) + "." + (i & 255) + ":7700").addRoles(Role.ROLE_SEED)
            .setIncarnation(1).setState(MemberState.MEMBER_ALIVE).setSignature(ByteString.copyFrom(sig))
            .setCredential(ByteString.copyFrom(sig, 0, 48)).build());
        if (frame.size() == 1_024 || i == invented - 1) {
          Frame f = Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).addAllMembers(frame)).build();
          links.forEach(l -> rogue.send(l, f));
          frame.clear();
        }
      }
    });
    VerifiedManifest vm = publish(1);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    flood.get(60, TimeUnit.SECONDS);
    VerifiedManifest after = publish(2);
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> applied(a, after)));
    for (NodeRuntime n : nodes()) {
      assertTrue(n.members().size() <= 4, n.members().size() + " members at " + n.id().shortHex());
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> rejected(seed.node(), "bad-credential")
        + rejected(seed.node(), "rate-limited") > 0);
    System.out.printf("MEMBERSHIP-ATTACK | flood of %,d invented members | both manifests applied, tables <= 4 | %s | sent %d KiB%n",
        invented, probe.stop(), rogue.bytesSent.get() >> 10);
  }

  @Test
  void revokedNodeIsDroppedEverywhereAndItsLinksAreRefused() throws Exception {
    startMeshWithRogue();
    NodeId rogueId = rogue.identity.nodeId();
    await().atMost(Duration.ofSeconds(30)).until(() -> nodes().stream().allMatch(n -> n.transport().link(rogueId).isPresent()));
    Path list = tmp.resolve("revocations.pb");
    new MeshCa().revoke(mesh.dir().resolve("ca"), Set.of(rogueId), Set.of(), list);
    // the list enters the mesh at one new agent; links carry it to every node
    NodeRuntime late = mesh.startAgent(SITE + "-3", SITE, b -> b.revocations(list.toString()), o -> o);
    await().atMost(Duration.ofSeconds(60)).until(() -> nodes().stream().allMatch(n ->
        n.transport().link(rogueId).isEmpty()
            && viewOf(n, rogueId).map(m -> !m.status().isLive()).orElse(true)));
    for (NodeRuntime n : nodes()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        try {
          PeerLink l = rogue.connect(n);
          return l.closeFuture().isDone() || !l.isOpen();
        } catch (Exception refused) {
          return true;
        }
      });
      assertTrue(n.transport().link(rogueId).isEmpty(), "no link to the revoked node at " + n.id().shortHex());
    }
    assertTrue(late.members().size() >= 4, "the mesh itself is whole");
    System.out.printf("MEMBERSHIP-ATTACK | revocation | rogue dropped and refused at %d nodes | %s%n", nodes().size(), probe.stop());
  }
}
