package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.tls.CertifiedMembers;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.Revocations;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import io.patchmesh.proto.Role;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership news under a real mesh CA (certificates from {@link MeshCa}, Ed25519 signatures),
 * sans-I/O: one node's {@link Membership} is fed frames a rogue member with a valid certificate
 * crafted by hand. What a member says about itself is believed only when it signed it; others can
 * only accuse it at an incarnation it signed; invented members cost bounded memory and checks.
 */
class MemberAuthenticationTest {
  @TempDir Path tmp;

  /** A fleet member: its certificate, its authority (signs as it) and what it says about itself. */
  private record Peer(NodeIdentity identity, CertifiedMembers authority, MemberInfo info) {
    NodeId id() {
      return identity.nodeId();
    }
  }

  private Path caDir;
  /** The revocation list holder of the first peer made (the node under test). */
  private Revocations firstRevocations;
  private final Map<String, Peer> peers = new HashMap<>();
  private long now = 1_000;

  @BeforeEach
  void ca() {
    caDir = tmp.resolve("ca");
    new MeshCa().init(caDir);
  }

  private Peer peer(String name, String site, boolean seed) {
    Path dir = tmp.resolve(name);
    new MeshCa().issue(caDir, name, site, dir, seed);
    NodeIdentity identity = NodeIdentity.load(dir);
    Revocations r = new Revocations(identity.caCertificate());
    CertifiedMembers authority = new CertifiedMembers(identity, r, Clock.systemUTC());
    MemberInfo info = MemberInfo.of(identity.nodeId(), site, List.of("10.0.0." + (peers.size() + 1) + ":7700"),
        seed ? Role.ROLE_SEED : Role.ROLE_AGENT);
    Peer p = new Peer(identity, authority, info);
    peers.put(name, p);
    if (firstRevocations == null) {
      firstRevocations = r;
    }
    return p;
  }

  private Membership start(Peer self, MemberAuthority authority, MemberBounds bounds) {
    return Membership.builder(self.info()).authority(authority).bounds(bounds).random(new Random(7)).start(now);
  }

  private static MemberUpdate.Builder statement(Peer p, MemberInfo claimed, long inc, MemberStatus claim) {
    return claimed.toWire(inc, claim).setSignature(p.authority().sign(MemberStatement.of(claimed, inc, claim)));
  }

  private static MemberUpdate alive(Peer p, long inc) {
    return statement(p, p.info(), inc, MemberStatus.ALIVE).setCredential(p.authority().credential()).build();
  }

  private static Frame gossip(MemberUpdate... updates) {
    return Frame.newBuilder().setPing(Ping.newBuilder().setSeq(0).addAllUpdates(List.of(updates))).build();
  }

  private static Frame pushPull(List<MemberUpdate> members) {
    return Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).addAllMembers(members)).build();
  }

  private static Member view(Membership m, Peer p) {
    return m.members().stream().filter(x -> x.info().id().equals(p.id())).findFirst().orElse(null);
  }

  private static void drain(Membership m) {
    while (m.pollOutbound() != null) { }
    while (m.pollEvent() != null) { }
  }

  /** The seed knows the victim and the rogue from their own signed statements. */
  private Membership seedKnowing(Peer seed, Peer... members) {
    Membership m = start(seed, seed.authority(), MemberBounds.defaults());
    for (Peer p : members) {
      m.onFrame(now, p.id(), gossip(alive(p, 1)));
    }
    drain(m);
    for (Peer p : members) {
      assertEquals(MemberStatus.ALIVE, view(m, p).status(), p.info().site());
    }
    return m;
  }

  @Test
  void leftNamingAnotherNodeAtTheTopIncarnationIsDroppedAndTheVictimStaysAlive() {
    Peer seed = peer("seed", "dc", true);
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    Membership m = seedKnowing(seed, victim, rogue);

    MemberUpdate atTop = victim.info().toWire(Long.MAX_VALUE, MemberStatus.LEFT).setFrom(rogue.id().toByteString()).build();
    MemberUpdate unsignedLeft = victim.info().toWire(2, MemberStatus.LEFT).build();
    MemberUpdate rogueSignedLeft = statement(rogue, victim.info(), 2, MemberStatus.LEFT).build();
    MemberUpdate deadAbove = victim.info().toWire(1L << 40, MemberStatus.DEAD).build();
    m.onFrame(now, rogue.id(), gossip(atTop, unsignedLeft, rogueSignedLeft, deadAbove));

    Member v = view(m, victim);
    assertEquals(MemberStatus.ALIVE, v.status());
    assertEquals(1, v.incarnation());
    assertEquals(1, m.rejected(NewsRejection.MALFORMED));
    assertEquals(1, m.rejected(NewsRejection.UNSIGNED));
    assertEquals(1, m.rejected(NewsRejection.BAD_SIGNATURE));
    assertEquals(1, m.rejected(NewsRejection.UNPROVEN));
  }

  @Test
  void aliveRewritingAnotherNodesSiteRolesAndAddressesIsDropped() {
    Peer seed = peer("seed", "dc", true);
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    Membership m = seedKnowing(seed, victim, rogue);

    MemberInfo forged = MemberInfo.of(victim.id(), "dc", List.of("127.0.0.1:1"), Role.ROLE_SEED);
    MemberInfo deadPort = MemberInfo.of(victim.id(), "branch-a", List.of("127.0.0.1:1"), Role.ROLE_AGENT);
    m.onFrame(now, rogue.id(), gossip(
        forged.toWire(5, MemberStatus.ALIVE).build(),                           // unsigned
        statement(rogue, forged, 6, MemberStatus.ALIVE).build(),                // site and role the CA did not grant
        statement(rogue, forged, 7, MemberStatus.ALIVE).setCredential(rogue.authority().credential()).build(),
        statement(rogue, deadPort, 8, MemberStatus.ALIVE).build(),              // signed by the rogue
        statement(rogue, deadPort, 9, MemberStatus.ALIVE).setCredential(rogue.authority().credential()).build()));
    // the victim's own key cannot lend its statement a site or role its certificate lacks
    MemberInfo overreach = MemberInfo.of(victim.id(), "dc", victim.info().addresses(), Role.ROLE_SEED);
    m.onFrame(now, rogue.id(), gossip(statement(victim, overreach, 10, MemberStatus.ALIVE).build()));

    Member v = view(m, victim);
    assertEquals(victim.info(), v.info(), "site, roles and addresses are the victim's own");
    assertEquals(1, v.incarnation());
    assertEquals(1, m.rejected(NewsRejection.UNSIGNED));
    assertEquals(2, m.rejected(NewsRejection.BAD_SIGNATURE));
    assertEquals(3, m.rejected(NewsRejection.BAD_CREDENTIAL));

    // its own new addresses, signed, are believed
    MemberInfo moved = MemberInfo.of(victim.id(), "branch-a", List.of("10.9.9.9:7700"), Role.ROLE_AGENT);
    m.onFrame(now, rogue.id(), gossip(statement(victim, moved, 2, MemberStatus.ALIVE).build()));
    assertEquals(moved, view(m, victim).info());
  }

  @Test
  void refutationOutbidsAccusationsAtHighIncarnationsAndSaturatesWithoutWrapping() {
    Peer seed = peer("seed", "dc", true);
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    long high = MemberStatement.MAX_INCARNATION - 1;
    Membership seedView = seedKnowing(seed, rogue);
    Membership victimNode = Membership.builder(victim.info()).authority(victim.authority())
        .initialIncarnation(high).random(new Random(3)).start(now);
    victimNode.onFrame(now, seed.id(), gossip(alive(seed, 1)));
    drain(victimNode);
    seedView.onFrame(now, victim.id(), gossip(alive(victim, high)));
    drain(seedView);

    // the rogue declares the victim dead at its current incarnation: the seed only suspects it...
    seedView.onFrame(now, rogue.id(), gossip(victim.info().toWire(high, MemberStatus.DEAD).build()));
    assertEquals(MemberStatus.SUSPECT, view(seedView, victim).status());
    // ...until the victim hears of it and refutes, signed, one higher
    victimNode.onFrame(now, seed.id(), gossip(victim.info().toWire(high, MemberStatus.DEAD).build()));
    assertEquals(MemberStatement.MAX_INCARNATION, victimNode.self().incarnation());
    MemberUpdate refutation = outgoingAbout(victimNode, victim.id());
    assertNotNull(refutation, "the victim gossips its refutation");
    seedView.onFrame(now, victim.id(), gossip(refutation));
    assertEquals(MemberStatus.ALIVE, view(seedView, victim).status());
    assertEquals(MemberStatement.MAX_INCARNATION, view(seedView, victim).incarnation());

    // at the top, the incarnation stays put instead of wrapping to a negative one
    victimNode.onFrame(now, seed.id(), gossip(victim.info().toWire(MemberStatement.MAX_INCARNATION, MemberStatus.SUSPECT).build()));
    assertEquals(MemberStatement.MAX_INCARNATION, victimNode.self().incarnation());
    assertEquals(MemberStatement.MAX_INCARNATION, MemberStatement.next(MemberStatement.MAX_INCARNATION));
    assertEquals(MemberStatement.MAX_INCARNATION, MemberStatement.next(Long.MAX_VALUE));
    assertEquals(1, MemberStatement.next(Long.MIN_VALUE));
  }

  @Test
  void aSuspicionIsConfirmedOnlyByDistinctLinkPeersNotByAccusersNamedInThePayload() {
    Peer seed = peer("seed", "dc", true);
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    Peer a = peer("a", "branch-a", false);
    Peer b = peer("b", "branch-a", false);
    Membership m = seedKnowing(seed, victim, rogue, a, b);
    // the rogue accuses the victim, then "confirms" in the names of a and b, all over its own link
    for (Peer named : List.of(rogue, a, b)) {
      m.onFrame(now, rogue.id(), gossip(victim.info().toWire(1, MemberStatus.SUSPECT).setFrom(named.id().toByteString()).build()));
    }
    assertEquals(MemberStatus.SUSPECT, view(m, victim).status());
    long min = MembershipConfig.lan().suspicionMinMillis(m.clusterSize());
    // a driver on time (every 50 ms): a tick seconds after a timer was due is a starved loop, which
    // puts its verdicts off (LocalLag)
    for (long t = now; t <= now + min + 1; t += 50) {
      m.tick(t);
    }
    m.tick(now + min + 1);
    drain(m);
    assertEquals(MemberStatus.SUSPECT, view(m, victim).status(),
        "the named confirmations were not counted: the victim keeps its time to refute");
    // a's own link passing the suspicion on is an independent confirmation
    m.onFrame(now + min + 2, a.id(), gossip(victim.info().toWire(1, MemberStatus.SUSPECT).build()));
    m.onFrame(now + min + 2, b.id(), gossip(victim.info().toWire(1, MemberStatus.SUSPECT).build()));
    m.tick(now + min + 3);
    assertEquals(MemberStatus.DEAD, view(m, victim).status());
  }

  @Test
  void accusationsCannotPushAnIncarnationTheOwnerNeverSigned() {
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    Membership victimNode = Membership.builder(victim.info()).authority(victim.authority()).random(new Random(3)).start(now);
    victimNode.onFrame(now, rogue.id(), gossip(
        victim.info().toWire(1L << 50, MemberStatus.SUSPECT).build(),
        victim.info().toWire(1L << 50, MemberStatus.ALIVE).setSignature(ByteString.copyFrom(new byte[64])).build()));
    assertEquals(0, victimNode.self().incarnation(), "nothing the victim did not sign moves its incarnation");
    // its own statement of a former life does
    victimNode.onFrame(now, rogue.id(), gossip(statement(victim, victim.info(), 40, MemberStatus.ALIVE).build()));
    assertEquals(41, victimNode.self().incarnation());
  }

  @Test
  void floodOfInventedMembersCostsBoundedMemoryAndChecksAndDelaysNoAnnouncement() throws Exception {
    Peer seed = peer("seed", "dc", true);
    Peer rogue = peer("rogue", "branch-a", false);
    Peer late = peer("late", "branch-b", false);
    AtomicLong checks = new AtomicLong();
    MemberAuthority counting = new CountingAuthority(seed.authority(), checks);
    MemberBounds bounds = MemberBounds.defaults();
    Membership m = start(seed, counting, bounds);
    m.onFrame(now, rogue.id(), gossip(alive(rogue, 1)));
    drain(m);
    long before = checks.get();

    Random random = new Random(50_000);
    int invented = 50_000;
    List<MemberUpdate> frame = new ArrayList<>();
    int frames = 0;
    for (int i = 0; i < invented; i++) {
      byte[] id = new byte[32];
      random.nextBytes(id);
      byte[] sig = new byte[64];
      random.nextBytes(sig);
      MemberInfo fake = MemberInfo.of(NodeId.of(id), "branch-a", List.of("10.66.0.1:" + (1024 + i % 60_000)), Role.ROLE_SEED);
      // half carry the rogue's own (valid) certificate, half garbage; all carry a signature
      ByteString credential = i % 2 == 0 ? rogue.authority().credential() : ByteString.copyFrom(sig, 0, 48);
      frame.add(fake.toWire(1, MemberStatus.ALIVE).setSignature(ByteString.copyFrom(sig)).setCredential(credential).build());
      if (frame.size() == Membership.PUSH_PULL_CHUNK) {
        now += 10; // 50,000 members in half a second
        m.onFrame(now, rogue.id(), pushPull(frame));
        frame.clear();
        frames++;
      }
    }
    m.onFrame(now, rogue.id(), pushPull(frame));
    frames++;
    drain(m);

    assertEquals(2, m.members().size(), "nothing invented was admitted");
    long spent = checks.get() - before;
    long budget = bounds.checkBurst() + (now - 1_000) * bounds.checksPerSecond() / 1_000 + 1;
    assertTrue(spent <= budget, spent + " signature checks for " + invented + " invented members, budget " + budget);
    assertTrue(m.rejected(NewsRejection.RATE_LIMITED) > invented / 2, "most were dropped unchecked");

    // meanwhile a genuine announcement is reported at once and a genuine member still joins
    Announce a = Announce.newBuilder().setManifestId(ByteString.copyFrom(new byte[32])).setChannel("ch").setVersion(1).build();
    m.onFrame(now, late.id(), Frame.newBuilder().setAnnounce(a).build());
    assertTrue(drainEvents(m).stream().anyMatch(e -> e instanceof AnnouncementHeard), "announcement heard during the flood");
    m.onFrame(now, late.id(), gossip(alive(late, 1)));
    assertEquals(MemberStatus.ALIVE, view(m, late).status(), "a genuine member is admitted from its own sender's budget");
  }

  @Test
  void memberTableStopsAtItsCap() {
    Peer seed = peer("seed", "dc", true);
    List<Peer> fleet = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      fleet.add(peer("agent-" + i, "branch-a", false));
    }
    Membership m = start(seed, seed.authority(), new MemberBounds(3, 128, 200, 2_000, 16));
    for (Peer p : fleet) {
      m.onFrame(now, p.id(), gossip(alive(p, 1)));
    }
    assertEquals(4, m.members().size(), "self and three members");
    assertEquals(1, m.rejected(NewsRejection.TABLE_FULL));
  }

  @Test
  void unknownMemberWithoutCredentialIsAskedForAndAdmittedFromTheAnswer() {
    Peer seed = peer("seed", "dc", true);
    Peer relay = peer("relay", "branch-a", false);
    Peer other = peer("other", "branch-b", false);
    Membership m = seedKnowing(seed, relay);
    Membership relayNode = Membership.builder(relay.info()).authority(relay.authority()).random(new Random(5)).start(now);
    relayNode.onFrame(now, other.id(), gossip(alive(other, 1)));
    drain(relayNode);

    MemberUpdate noCredential = statement(other, other.info(), 1, MemberStatus.ALIVE).build();
    m.onFrame(now, relay.id(), gossip(noCredential));
    assertNull(view(m, other));
    Frame query = null;
    for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
      if (o.frame().hasMemberQuery() && o.to().equals(relay.id())) {
        query = o.frame();
      }
    }
    assertNotNull(query, "asks the sender");
    relayNode.onFrame(now, seed.id(), query);
    Frame answer = null;
    for (Outbound o = relayNode.pollOutbound(); o != null; o = relayNode.pollOutbound()) {
      if (o.frame().hasPushPull() && o.to().equals(seed.id())) {
        answer = o.frame();
      }
    }
    assertNotNull(answer, "the relay answers with the credential");
    m.onFrame(now, relay.id(), answer);
    assertEquals(MemberStatus.ALIVE, view(m, other).status());
    assertEquals(other.info(), view(m, other).info());
  }

  @Test
  void revokedMemberIsDeclaredDeadAndNothingItSaysIsBelievedAgain() throws Exception {
    Peer seed = peer("seed", "dc", true);
    Peer victim = peer("victim", "branch-a", false);
    Peer rogue = peer("rogue", "branch-a", false);
    Membership m = seedKnowing(seed, victim, rogue);
    Path list = tmp.resolve("revocations.pb");
    new MeshCa().revoke(caDir, Set.of(rogue.id()), Set.of(), list);
    // the seed's authority reads this holder
    assertTrue(firstRevocations.offer(io.patchmesh.proto.SignedRevocationList.parseFrom(
        java.nio.file.Files.readAllBytes(list))).isPresent());

    assertEquals(List.of(rogue.id()), m.recheckRevocations(now));
    assertEquals(MemberStatus.DEAD, view(m, rogue).status());
    m.onFrame(now, rogue.id(), gossip(alive(rogue, 2)));
    assertEquals(MemberStatus.DEAD, view(m, rogue).status());
    assertEquals(1, m.rejected(NewsRejection.REVOKED));
    assertEquals(MemberStatus.ALIVE, view(m, victim).status());
  }

  private static List<MeshEvent> drainEvents(Membership m) {
    List<MeshEvent> all = new ArrayList<>();
    for (MeshEvent e = m.pollEvent(); e != null; e = m.pollEvent()) {
      all.add(e);
    }
    return all;
  }

  /** The newest update about {@code id} in what {@code m} sends next. */
  private MemberUpdate outgoingAbout(Membership m, NodeId id) {
    now += 1_000;
    m.tick(now);
    MemberUpdate found = null;
    for (Outbound o = m.pollOutbound(); o != null; o = m.pollOutbound()) {
      List<MemberUpdate> updates = o.frame().hasPing() ? o.frame().getPing().getUpdatesList()
          : o.frame().hasAck() ? o.frame().getAck().getUpdatesList() : List.of();
      for (MemberUpdate u : updates) {
        if (u.getNodeId().equals(id.toByteString())) {
          found = u;
        }
      }
    }
    return found;
  }

  /** Counts the signature checks the node makes (credentials and statements). */
  private record CountingAuthority(MemberAuthority inner, AtomicLong checks) implements MemberAuthority {
    @Override
    public ByteString credential() {
      return inner.credential();
    }

    @Override
    public ByteString sign(byte[] statement) {
      return inner.sign(statement);
    }

    @Override
    public MemberCredential admit(NodeId id, ByteString encoded) throws Rejected {
      checks.incrementAndGet();
      return inner.admit(id, encoded);
    }

    @Override
    public boolean verify(MemberCredential credential, byte[] statement, ByteString signature) {
      checks.incrementAndGet();
      return inner.verify(credential, statement, signature);
    }

    @Override
    public boolean revoked(MemberCredential credential) {
      return inner.revoked(credential);
    }
  }
}
