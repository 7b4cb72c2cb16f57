package io.patchmesh.tools;

import com.google.protobuf.ByteString;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.MemberState;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;

/**
 * The rogue of {@code bench attacks}: a process (the bench's own JVM) holding valid agent
 * certificates from the mesh CA, linked to the seed and every agent over mutual TLS, that runs one
 * attack of issue 12 until closed. Its frames are the ones the suite's attack tests send
 * (MembershipAttackTest, ManifestDownloadAttackTest, RolloutGossipAttackTest), repeated for the
 * whole attack instead of once.
 */
final class AttackRogue implements AutoCloseable {
  /** The attacks, in the order the bench runs them. */
  enum Attack {
    /** The control: the rogue is linked to every node and sends nothing (what a silent site member costs). */
    SILENT("control: rogue linked to every node, silent"),
    EVICT("eviction/rewrite gossip about every agent"),
    FLOOD("50,000 invented members (PushPull, repeated)"),
    TRICKLE("8 fake 64 MiB manifests announced: 4 trickled 1 B/10 s, 4 never served"),
    FAKE_DOWNLOADS("8 concurrent fake 64 MiB manifests served at full speed (4 identities)"),
    BAD_SIGNATURES("the genuine manifest re-served with 64 bad signatures"),
    DEAD_GOSSIP("every agent gossiped dead and left to the seed");

    final String what;

    Attack(String what) {
      this.what = what;
    }
  }

  /** What the rogue knows of the mesh: addresses, the agents' ids, the genuine manifest about to be pushed. */
  record Target(InetSocketAddress seed, List<InetSocketAddress> agents, List<NodeId> agentIds, String site,
      SignedManifest genuine, long genuineVersion) {}

  static final long FAKE_BYTES = 64L << 20;
  static final int INVENTED = 50_000;

  final AtomicLong bytesSent = new AtomicLong();
  private final List<Transport> transports = new ArrayList<>();
  private final List<NodeIdentity> identities = new ArrayList<>();
  private final ScheduledExecutorService exec = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "rogue");
    t.setDaemon(true);
    return t;
  });
  private volatile BiPredicate<PeerLink, Frame> script = (l, f) -> false;

  /** {@code count} rogue identities of {@code site}, issued by the CA in {@code caDir}. */
  AttackRogue(Path caDir, Path dir, String site, int count) {
    for (int i = 0; i < count; i++) {
      Path d = dir.resolve("rogue-" + i);
      new MeshCa().issue(caDir, "rogue-" + i, site, d);
      NodeIdentity id = NodeIdentity.load(d);
      Transport t = new Transport(TransportConfig.builder(site).listen("127.0.0.1", 0).eventLoopThreads(1).build(),
          TransportSecurity.mutualTls(id));
      t.addListener(new LinkListener() {
        @Override
        public void onFrame(PeerLink link, Frame frame) {
          script.test(link, frame);
        }
      });
      t.start();
      transports.add(t);
      identities.add(id);
    }
  }

  /** Links of identity {@code i} to every address. */
  private List<PeerLink> connect(int i, List<InetSocketAddress> to) throws Exception {
    List<PeerLink> links = new ArrayList<>();
    for (InetSocketAddress a : to) {
      links.add(transports.get(i).connect(a).get(30, TimeUnit.SECONDS));
    }
    return links;
  }

  private void send(PeerLink l, Frame f) {
    if (l.isOpen()) {
      bytesSent.addAndGet(f.getSerializedSize());
      l.sendControl(f);
    }
  }

  private void every(long millis, Runnable r) {
    exec.scheduleWithFixedDelay(() -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        System.err.println("rogue: " + e);
      }
    }, 0, millis, TimeUnit.MILLISECONDS);
  }

  /** Links up and starts {@code attack}; it runs until {@link #close()}. */
  void start(Attack attack, Target t) throws Exception {
    List<InetSocketAddress> all = new ArrayList<>(t.agents());
    all.add(0, t.seed());
    switch (attack) {
      case SILENT -> connect(0, all);
      case EVICT -> {
        List<PeerLink> links = connect(0, all);
        every(1_000, () -> {
          for (NodeId victim : t.agentIds()) {
            List<MemberUpdate> lies = evictionLies(victim, t.site());
            for (PeerLink l : links) {
              send(l, Frame.newBuilder().setPing(Ping.newBuilder().setSeq(1).addAllUpdates(lies)).build());
              send(l, Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).addAllMembers(lies)).build());
            }
          }
        });
      }
      case FLOOD -> {
        List<PeerLink> links = connect(0, all);
        List<Frame> frames = inventedMembers(t.site());
        every(1_000, () -> frames.forEach(f -> links.forEach(l -> send(l, f))));
      }
      case TRICKLE -> trickle(t);
      case FAKE_DOWNLOADS -> fakeDownloads(t);
      case BAD_SIGNATURES -> {
        SignedManifest forged = forge(t.genuine());
        ByteString id = idOf(t.genuine()).toByteString();
        script = (link, f) -> {
          if (f.hasManifestRequest() && f.getManifestRequest().getManifestId().equals(id)) {
            send(link, part(id, 0, forged.getSerializedSize(), forged.toByteArray()));
          }
          return true;
        };
        List<PeerLink> links = connect(0, t.agents());
        Frame a = announce(idOf(t.genuine()), t.genuineVersion(), forged.getSerializedSize());
        every(1_000, () -> links.forEach(l -> send(l, a)));
      }
      case DEAD_GOSSIP -> {
        PeerLink seed = connect(0, List.of(t.seed())).get(0);
        AtomicLong seq = new AtomicLong();
        every(1_000, () -> {
          for (MemberState lie : List.of(MemberState.MEMBER_DEAD, MemberState.MEMBER_LEFT)) {
            Ping.Builder ping = Ping.newBuilder().setSeq(seq.incrementAndGet());
            for (NodeId a : t.agentIds()) {
              ping.addUpdates(MemberUpdate.newBuilder().setNodeId(a.toByteString()).setSite(t.site())
                  .setIncarnation(Long.MAX_VALUE).setState(lie).setFrom(identities.get(0).nodeId().toByteString()));
            }
            send(seed, Frame.newBuilder().setPing(ping).build());
          }
        });
      }
      default -> throw new IllegalArgumentException(attack.toString());
    }
  }

  /** Leave, rewrite of site/roles/address (unsigned and badly signed), dead at 2^40: MembershipAttackTest's lies. */
  private List<MemberUpdate> evictionLies(NodeId victim, String site) {
    byte[] junk = new byte[64];
    new Random(1).nextBytes(junk);
    ByteString id = victim.toByteString();
    return List.of(
        MemberUpdate.newBuilder().setNodeId(id).setSite(site).setIncarnation(Long.MAX_VALUE)
            .setState(MemberState.MEMBER_LEFT).setFrom(identities.get(0).nodeId().toByteString()).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite(site).setIncarnation(1L << 30)
            .setState(MemberState.MEMBER_LEFT).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite("dc").addRoles(Role.ROLE_SEED).addAddresses("127.0.0.1:1")
            .setIncarnation(1L << 31).setState(MemberState.MEMBER_ALIVE).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite("dc").addRoles(Role.ROLE_SEED).addAddresses("127.0.0.1:1")
            .setIncarnation((1L << 31) + 1).setState(MemberState.MEMBER_ALIVE).setSignature(ByteString.copyFrom(junk)).build(),
        MemberUpdate.newBuilder().setNodeId(id).setSite(site).setIncarnation(1L << 40)
            .setState(MemberState.MEMBER_DEAD).build());
  }

  /** 50,000 invented members with random ids, signatures and credentials, 1,024 to a PushPull. */
  private static List<Frame> inventedMembers(String site) {
    Random random = new Random(7);
    List<Frame> frames = new ArrayList<>();
    List<MemberUpdate> batch = new ArrayList<>();
    for (int i = 0; i < INVENTED; i++) {
      byte[] id = new byte[32];
      byte[] sig = new byte[64];
      random.nextBytes(id);
      random.nextBytes(sig);
      batch.add(MemberUpdate.newBuilder().setNodeId(ByteString.copyFrom(id)).setSite(site)
          .addAddresses("10.66." + (i >> 8 & 255) + "." + (i & 255) + ":7700").addRoles(Role.ROLE_SEED)
          .setIncarnation(1).setState(MemberState.MEMBER_ALIVE).setSignature(ByteString.copyFrom(sig))
          .setCredential(ByteString.copyFrom(sig, 0, 48)).build());
      if (batch.size() == 1_024 || i == INVENTED - 1) {
        frames.add(Frame.newBuilder().setPushPull(PushPull.newBuilder().setReply(true).addAllMembers(batch)).build());
        batch.clear();
      }
    }
    return frames;
  }

  /** Announces the genuine id and 8 fakes; trickles the genuine one and 4 fakes a byte per request, 10 s late; never serves the rest. */
  private void trickle(Target t) throws Exception {
    ManifestId genuineId = idOf(t.genuine());
    List<ManifestId> fakes = new ArrayList<>();
    Random random = new Random(7);
    for (int i = 0; i < 8; i++) {
      byte[] id = new byte[32];
      random.nextBytes(id);
      fakes.add(ManifestId.of(id));
    }
    script = (link, f) -> {
      if (!f.hasManifestRequest()) {
        return true;
      }
      ManifestRequest r = f.getManifestRequest();
      ManifestId id = ManifestId.of(r.getManifestId());
      if (fakes.indexOf(id) >= 4) {
        return true;
      }
      long total = id.equals(genuineId) ? t.genuine().getSerializedSize() : FAKE_BYTES;
      exec.schedule(() -> send(link, part(r.getManifestId(), r.getOffset(), total, new byte[] {1})), 10, TimeUnit.SECONDS);
      return true;
    };
    List<Frame> announcements = new ArrayList<>();
    announcements.add(announce(genuineId, t.genuineVersion(), t.genuine().getSerializedSize()));
    for (int i = 0; i < fakes.size(); i++) {
      announcements.add(announce(fakes.get(i), 100 + i, FAKE_BYTES));
    }
    List<PeerLink> links = connect(0, t.agents());
    every(1_000, () -> links.forEach(l -> announcements.forEach(a -> send(l, a))));
  }

  /** 8 fake 64 MiB manifests, 2 per identity, served in 256 KiB parts as fast as they are asked for. */
  private void fakeDownloads(Target t) throws Exception {
    List<FakeManifestEnvelope> fakes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      fakes.add(new FakeManifestEnvelope(i, FAKE_BYTES));
    }
    script = (link, f) -> {
      if (!f.hasManifestRequest()) {
        return true;
      }
      ManifestRequest req = f.getManifestRequest();
      for (FakeManifestEnvelope fe : fakes) {
        if (fe.id.toByteString().equals(req.getManifestId()) && req.getOffset() >= 0 && req.getOffset() < fe.size()) {
          int len = (int) Math.min(256 * 1024, fe.size() - req.getOffset());
          send(link, part(req.getManifestId(), req.getOffset(), fe.size(), fe.read(req.getOffset(), len)));
        }
      }
      return true;
    };
    for (int r = 0; r < transports.size(); r++) {
      List<PeerLink> links = connect(r, t.agents());
      List<Frame> mine = new ArrayList<>();
      for (int k = 2 * r; k < Math.min(fakes.size(), 2 * r + 2); k++) {
        mine.add(announce(fakes.get(k).id, 200 + k, fakes.get(k).size()));
      }
      every(1_000, () -> links.forEach(l -> mine.forEach(a -> send(l, a))));
    }
  }

  /** The genuine manifest's bytes under 64 random signatures naming its first signer's key. */
  private static SignedManifest forge(SignedManifest genuine) {
    SignedManifest.Builder forged = genuine.toBuilder().clearSignatures();
    Random random = new Random(3);
    String keyId = genuine.getSignatures(0).getKeyId();
    for (int i = 0; i < 64; i++) {
      byte[] sig = new byte[64];
      random.nextBytes(sig);
      forged.addSignatures(Signature.newBuilder().setKeyId(keyId).setSignature(ByteString.copyFrom(sig)));
    }
    return forged.build();
  }

  static ManifestId idOf(SignedManifest sm) {
    return ManifestId.ofManifestBytes(sm.getManifest().toByteArray());
  }

  private static Frame announce(ManifestId id, long version, long size) {
    return Frame.newBuilder().setAnnounce(Announce.newBuilder().setManifestId(id.toByteString())
        .setChannel(AttackMesh.CHANNEL).setVersion(version).setSize(size)).build();
  }

  private static Frame part(ByteString id, long offset, long total, byte[] data) {
    return Frame.newBuilder().setManifestPart(ManifestPart.newBuilder().setManifestId(id).setOffset(offset)
        .setTotalSize(total).setData(ByteString.copyFrom(data))).build();
  }

  @Override
  public void close() {
    exec.shutdownNow();
    transports.forEach(Transport::close);
  }
}
