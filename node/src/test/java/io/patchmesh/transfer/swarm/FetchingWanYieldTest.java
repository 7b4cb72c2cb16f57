package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.ledbat.LedbatConfig;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code wan-yield} in the fetching core, on virtual time: requests to a WAN source (a seed
 * elsewhere, another site's agent) go out as its LEDBAT window allows, each piece's
 * request-to-arrival time feeds that window, LAN peers are never paced, and {@code off} asks as the
 * picker's pipelines allow. The window here is counted in 1000-byte chunks: 2 at first.
 */
class FetchingWanYieldTest {
  /** A window of two 1000-byte chunks at first, one at least. */
  static final LedbatConfig SMALL = new LedbatConfig(50, 1.0, 1000, 2000, 1000, 1 << 20, 60_000, 10, 4, 0.5);

  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of(Role.ROLE_AGENT));
  private final List<Member> members = new ArrayList<>();
  private final Map<LinkRef, Long> bytesIn = new HashMap<>();
  private final List<byte[]> data = contents(40);
  private final VerifiedManifest vm = TestManifests.ofContents("app", 1, data);
  private long now = 10_000;

  private static List<byte[]> contents(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[1000];
      java.util.Arrays.fill(b, (byte) i);
      out.add(b);
    }
    return out;
  }

  private SwarmCore core(SwarmConfig cfg) {
    return new SwarmCore(node("self"), "s1", TransferConfig.defaults(), cfg, 2, new Random(7), OpenLinks.ALL, () -> members);
  }

  /** The requests decided since the last call that go to {@code to}, Yields resumed at once. */
  private List<Request> requests(SwarmCore core, LinkRef to) {
    List<Request> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.SendControl s && s.to().equals(to) && s.frame().hasRequest()) {
          out.add(s.frame().getRequest());
        } else if (a instanceof SwarmAction.StoreChunk st) {
          core.fetching().onStored(st, StoreResult.stored(List.of()), now);
        }
      }
    }
    core.pollEvents();
    return out;
  }

  /** A fetching core linked to {@code source} that holds everything; the requests of its first pump. */
  private List<Request> start(SwarmCore core, LinkRef source) {
    ChunkTable table = ChunkTable.of(vm.manifest());
    core.fetching().begin(vm, table, new HaveMap(table.count()), true, now);
    core.onLinkUp(source, now);
    core.fetching().onHaveMap(source, HaveMap.complete(table.count()).toProto(vm.id()), now);
    List<Request> asked = new ArrayList<>(requests(core, source));
    now += 1_000; // past the WAN start delay
    core.fetching().tick(now, bytesIn);
    asked.addAll(requests(core, source));
    return asked;
  }

  private void deliver(SwarmCore core, LinkRef from, int idx) {
    core.fetching().onPiece(from, Piece.newBuilder().setManifestId(vm.id().toByteString()).setChunkIndex(idx)
        .setData(ByteString.copyFrom(data.get(idx))).build(), now);
  }

  @Test
  void aSeedElsewhereIsAskedForAWindowsWorthAndEachQuickPieceOpensIt() {
    SwarmCore core = core(SwarmConfig.fast().withWanYield(SMALL));
    List<Request> asked = start(core, seed);
    assertEquals(2, asked.size(), "the initial window: two chunks");
    assertEquals(2000, core.fetching().pacer().inFlightBytes(seed.peer()));
    now += 40;
    deliver(core, seed, asked.get(0).getChunkIndex()); // 40 ms: the base delay; slow start grows the window
    List<Request> next = requests(core, seed);
    assertTrue(core.fetching().pacer().windowBytes(seed.peer()) > 2000, "a piece back at the base delay opens the window");
    assertFalse(next.isEmpty(), "and the pipeline is refilled");
    assertEquals(1000L * (1 + next.size()), core.fetching().pacer().inFlightBytes(seed.peer()));
    assertTrue(core.fetching().pacer().inFlightBytes(seed.peer()) <= core.fetching().pacer().windowBytes(seed.peer()));
  }

  @Test
  void aSourceWhosePiecesQueueIsAskedLess() {
    SwarmCore core = core(SwarmConfig.fast().withWanYield(SMALL));
    List<Request> asked = start(core, seed);
    now += 40;
    deliver(core, seed, asked.get(0).getChunkIndex());
    deliver(core, seed, asked.get(1).getChunkIndex());
    List<Request> pending = new ArrayList<>(requests(core, seed));
    long opened = core.fetching().pacer().windowBytes(seed.peer());
    // from now on every piece takes 400 ms: 360 ms of queue over the base delay, far over the 50 ms target
    for (int round = 0; round < 6 && !pending.isEmpty(); round++) {
      now += 400;
      List<Request> more = new ArrayList<>();
      for (Request r : pending) {
        deliver(core, seed, r.getChunkIndex());
        more.addAll(requests(core, seed));
      }
      pending = more;
    }
    assertTrue(core.fetching().pacer().queuingDelayMillis(seed.peer()) >= 300);
    assertEquals(SMALL.minWindowBytes(), core.fetching().pacer().windowBytes(seed.peer()),
        "window " + core.fetching().pacer().windowBytes(seed.peer()) + " after " + opened);
  }

  @Test
  void aSiteMateIsNeverPaced() {
    SwarmCore core = core(SwarmConfig.fast().withWanYield(SMALL));
    List<Request> asked = start(core, mate);
    assertTrue(asked.size() > 2, "a LAN peer is asked a pipeline's worth: " + asked.size());
    assertEquals(0, core.fetching().pacer().inFlightBytes(mate.peer()));
  }

  @Test
  void offAsksASeedAsThePipelineAllows() {
    SwarmCore core = core(SwarmConfig.fast());
    assertNull(core.fetching().pacer());
    assertTrue(start(core, seed).size() > 2);
  }
}
