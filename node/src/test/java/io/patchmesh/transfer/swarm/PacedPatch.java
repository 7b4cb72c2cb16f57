package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Piece;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Tests' patch of 40 one-kilobyte chunks, fetched by a core that paces WAN requests with a small
 * {@code wan-yield} window ({@link FetchingWanYieldTest#SMALL}) from a seed that holds all of it.
 */
final class PacedPatch {
  final List<byte[]> data = new ArrayList<>();
  final VerifiedManifest vm;

  PacedPatch() {
    for (int i = 0; i < 40; i++) {
      byte[] b = new byte[1000];
      java.util.Arrays.fill(b, (byte) i);
      data.add(b);
    }
    vm = TestManifests.ofContents("app", 1, data);
  }

  /** A core whose WAN requests are paced, every link open, no other members. */
  static SwarmCore pacedCore() {
    List<Member> members = new ArrayList<>();
    return new SwarmCore(node("self"), "s1", TransferConfig.defaults(),
        SwarmConfig.fast().withWanYield(FetchingWanYieldTest.SMALL), 2, new Random(7), OpenLinks.ALL, () -> members);
  }

  /** Starts fetching the patch on {@code core} from {@code seed}, which has every chunk. */
  void beginFrom(SwarmCore core, LinkRef seed, long now) {
    ChunkTable table = ChunkTable.of(vm.manifest());
    core.fetching().begin(vm, table, new HaveMap(table.count()), true, now);
    core.onLinkUp(seed, now);
    core.fetching().onHaveMap(seed, HaveMap.complete(table.count()).toProto(vm.id()), now);
  }

  /** Chunk {@code idx} as the seed would send it. */
  Piece piece(int idx) {
    return Piece.newBuilder().setManifestId(vm.id().toByteString()).setChunkIndex(idx)
        .setData(ByteString.copyFrom(data.get(idx))).build();
  }
}
