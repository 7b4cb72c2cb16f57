package io.patchmesh.seed;

import com.google.protobuf.ByteString;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.FrameLimits;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A peer with a valid mesh certificate (issued by the mesh's own CA) that speaks the real protocol
 * and misbehaves as its {@link Behaviour} says. Through {@link #transport} it is a well-formed peer
 * that lies in what it says; through {@link #raw} it sends whatever bytes and Hellos a test
 * chooses. Counts what it sends (frames, bytes) and records what the honest side does back:
 * Rejects, and which nodes hung up on it.
 */
final class MaliciousPeer implements AutoCloseable {
  /** How it answers the swarm. Every behaviour but {@link #QUIET} claims every chunk of the manifest. */
  enum Behaviour {
    /** Random bytes of the right size for each requested chunk. */
    CORRUPT_CHUNKS,
    /** Genuine bytes of another chunk of the same manifest (valid data, wrong hash). */
    WRONG_CHUNKS,
    /** Claims everything, then Rejects each request as "not-have". */
    CLAIM_THEN_REJECT,
    /** Claims everything, then never answers a request. */
    CLAIM_THEN_STALL,
    /** Claims nothing and answers nothing by itself; the test drives it. */
    QUIET
  }

  final Transport transport;
  final NodeIdentity identity;
  final String site;
  final AtomicLong framesSent = new AtomicLong();
  final AtomicLong bytesSent = new AtomicLong();
  final AtomicLong piecesServed = new AtomicLong();
  final AtomicLong manifestPartsServed = new AtomicLong();
  final AtomicLong manifestRequests = new AtomicLong();
  final List<Reject> rejects = new CopyOnWriteArrayList<>();
  final Set<NodeId> hungUpOn = ConcurrentHashMap.newKeySet();
  private final Behaviour behaviour;
  private final VerifiedManifest vm;
  private final ChunkTable table;
  private final Function<ChunkId, byte[]> genuine;
  private final Map<ManifestId, SignedManifest> manifestsToServe = new ConcurrentHashMap<>();
  private final Random random = new Random(1);
  private final Path meshDir;
  private final Path dir;
  private EventLoopGroup rawGroup;

  /**
   * @param meshDir the LocalMesh directory (its CA issues our certificate)
   * @param vm the manifest we lie about (null for QUIET peers that need none)
   * @param genuine real chunk bytes by id (WRONG_CHUNKS serves them under other indexes)
   */
  MaliciousPeer(Path meshDir, Path dir, String name, String site, VerifiedManifest vm, Behaviour behaviour,
      Function<ChunkId, byte[]> genuine) {
    this.meshDir = meshDir;
    this.dir = dir;
    this.site = site;
    this.behaviour = behaviour;
    this.vm = vm;
    this.table = vm == null ? null : ChunkTable.of(vm.manifest());
    this.genuine = genuine;
    new MeshCa().issue(meshDir.resolve("ca"), name, site, dir);
    identity = NodeIdentity.load(dir);
    transport = new Transport(TransportConfig.builder(site).listen("127.0.0.1", 0).eventLoopThreads(1).build(),
        TransportSecurity.mutualTls(identity));
    transport.addListener(new LinkListener() {
      @Override
      public void onFrame(PeerLink link, Frame frame) {
        answer(link, frame);
      }

      @Override
      public void onLinkDown(PeerLink link, String reason) {
        hungUpOn.add(link.peerId());
      }
    });
    transport.start();
  }

  MaliciousPeer(Path meshDir, Path dir, String site, VerifiedManifest vm, Behaviour behaviour) {
    this(meshDir, dir, "rogue", site, vm, behaviour, id -> null);
  }

  /**
   * A test's own answer to frames the honest side sends (a scripted attack: trickle a manifest,
   * send any sequence of frames back); it runs first, and when it returns true the behaviour's
   * own answer is skipped. Runs on the transport's event loop: schedule slow answers elsewhere.
   */
  private volatile java.util.function.BiPredicate<PeerLink, Frame> script = (l, f) -> false;

  void onFrame(java.util.function.BiPredicate<PeerLink, Frame> script) {
    this.script = script;
  }

  private void answer(PeerLink link, Frame frame) {
    if (frame.getBodyCase() == Frame.BodyCase.MANIFEST_REQUEST) {
      manifestRequests.incrementAndGet();
    }
    if (script.test(link, frame)) {
      return;
    }
    switch (frame.getBodyCase()) {
      case HAVE_MAP -> {
        if (behaviour != Behaviour.QUIET && vm != null
            && frame.getHaveMap().getManifestId().equals(vm.id().toByteString())) {
          send(link, Frame.newBuilder().setHaveMap(HaveMap.complete(table.count()).toProto(vm.id())).build());
        }
      }
      case REQUEST -> serve(link, frame);
      case REJECT -> rejects.add(frame.getReject());
      case MANIFEST_REQUEST -> {
        ByteString raw = frame.getManifestRequest().getManifestId();
        SignedManifest sm = raw.size() == ManifestId.LENGTH ? manifestsToServe.get(ManifestId.of(raw)) : null;
        if (sm != null) {
          manifestPartsServed.incrementAndGet();
          send(link, Frame.newBuilder().setManifestPart(ManifestPart.newBuilder().setManifestId(raw).setOffset(0)
              .setTotalSize(sm.getSerializedSize()).setData(sm.toByteString())).build());
        }
      }
      default -> {}
    }
  }

  private void serve(PeerLink link, Frame frame) {
    int idx = frame.getRequest().getChunkIndex();
    if (vm == null || idx < 0 || idx >= table.count()) {
      return;
    }
    Piece.Builder piece = Piece.newBuilder().setManifestId(frame.getRequest().getManifestId()).setChunkIndex(idx);
    switch (behaviour) {
      case CORRUPT_CHUNKS -> {
        byte[] junk = new byte[table.size(idx)];
        synchronized (random) {
          random.nextBytes(junk);
        }
        piece.setData(ByteString.copyFrom(junk));
      }
      case WRONG_CHUNKS -> piece.setData(ByteString.copyFrom(genuine.apply(table.id((idx + 1) % table.count()))));
      case CLAIM_THEN_REJECT -> {
        send(link, Frame.newBuilder().setReject(Reject.newBuilder().setManifestId(frame.getRequest().getManifestId())
            .setChunkIndex(idx).setRequestId(frame.getRequest().getRequestId()).setReason("not-have")).build());
        return;
      }
      default -> {
        return; // CLAIM_THEN_STALL and QUIET: silence
      }
    }
    piecesServed.incrementAndGet();
    sendData(link, Frame.newBuilder().setPiece(piece).build());
  }

  /** From now on, answers ManifestRequests for {@code sm} with its bytes (a replay needs a server). */
  void serveManifest(SignedManifest sm) {
    manifestsToServe.put(ManifestId.ofManifestBytes(sm.getManifest().toByteArray()), sm);
  }

  void send(PeerLink link, Frame frame) {
    count(frame);
    link.sendControl(frame);
  }

  void sendData(PeerLink link, Frame frame) {
    count(frame);
    link.sendData(frame);
  }

  private void count(Frame frame) {
    framesSent.incrementAndGet();
    bytesSent.addAndGet(FrameLimits.LENGTH_PREFIX_BYTES + frame.getSerializedSize());
  }

  PeerLink connect(NodeRuntime node) throws Exception {
    return transport.connect(new InetSocketAddress("127.0.0.1", node.transport().boundAddress().getPort()))
        .get(20, TimeUnit.SECONDS);
  }

  /** A hand-driven TLS connection to {@code node} with this peer's certificate (no Hello sent yet). */
  RawMeshConnection raw(NodeRuntime node) throws Exception {
    return raw(node, identity);
  }

  /** The same with another certificate of the mesh. */
  synchronized RawMeshConnection raw(NodeRuntime node, NodeIdentity as) throws Exception {
    if (rawGroup == null) {
      rawGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }
    framesSent.incrementAndGet(); // counted per connection; RawMeshConnection counts the bytes
    return RawMeshConnection.open(rawGroup, node.transport().boundAddress(), as, bytesSent);
  }

  /** A second certificate from the mesh CA, e.g. issued under an honest node's name and site. */
  NodeIdentity issueAnother(String name, String site) {
    Path d = dir.resolveSibling(dir.getFileName() + "-" + name);
    new MeshCa().issue(meshDir.resolve("ca"), name, site, d);
    return NodeIdentity.load(d);
  }

  NodeId id() {
    return identity.nodeId();
  }

  @Override
  public void close() {
    transport.close();
    if (rawGroup != null) {
      rawGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
  }
}
