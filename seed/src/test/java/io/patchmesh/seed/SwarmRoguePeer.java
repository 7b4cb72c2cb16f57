package io.patchmesh.seed;

import com.google.protobuf.ByteString;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.trust.VerifiedManifest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A peer with a valid mesh certificate that is not a real node: it claims to hold every chunk of
 * one manifest and, if told to, answers Requests with garbage of the right size. Records what the
 * honest node sends back (Rejects) and when it hangs up.
 */
final class SwarmRoguePeer implements AutoCloseable {
  final Transport transport;
  final AtomicInteger corruptServed = new AtomicInteger();
  final List<Reject> rejects = new CopyOnWriteArrayList<>();
  final Set<NodeId> hungUpOn = ConcurrentHashMap.newKeySet();

  SwarmRoguePeer(Path meshDir, Path dir, String site, VerifiedManifest vm, boolean serveCorrupt) {
    new MeshCa().issue(meshDir.resolve("ca"), "rogue", site, dir);
    ChunkTable table = ChunkTable.of(vm.manifest());
    Frame haveAll = Frame.newBuilder().setHaveMap(HaveMap.complete(table.count()).toProto(vm.id())).build();
    Random random = new Random(1);
    transport = new Transport(
        TransportConfig.builder(site).listen("127.0.0.1", 0).build(),
        TransportSecurity.mutualTls(NodeIdentity.load(dir)));
    transport.addListener(new LinkListener() {
      @Override
      public void onFrame(PeerLink link, Frame frame) {
        switch (frame.getBodyCase()) {
          case HAVE_MAP -> {
            if (frame.getHaveMap().getManifestId().equals(vm.id().toByteString())) {
              link.sendControl(haveAll);
            }
          }
          case REQUEST -> {
            int idx = frame.getRequest().getChunkIndex();
            if (serveCorrupt && idx >= 0 && idx < table.count()) {
              byte[] junk = new byte[table.size(idx)];
              synchronized (random) {
                random.nextBytes(junk);
              }
              corruptServed.incrementAndGet();
              link.sendData(Frame.newBuilder().setPiece(Piece.newBuilder()
                  .setManifestId(frame.getRequest().getManifestId()).setChunkIndex(idx)
                  .setData(ByteString.copyFrom(junk))).build());
            }
          }
          case REJECT -> rejects.add(frame.getReject());
          default -> {}
        }
      }

      @Override
      public void onLinkDown(PeerLink link, String reason) {
        hungUpOn.add(link.peerId());
      }
    });
    transport.start();
  }

  PeerLink connect(NodeRuntime node) throws Exception {
    return transport.connect(new InetSocketAddress("127.0.0.1", node.transport().boundAddress().getPort()))
        .get(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    transport.close();
  }
}
