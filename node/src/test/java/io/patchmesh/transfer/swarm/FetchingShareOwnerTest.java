package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Who owns a share of the site's WAN fetches, on virtual time (issue 17): a site-mate that will
 * never fetch for the site — one we cannot link to (a laptop on a VPN refuses every peer link), or
 * one that only serves the manifest (not in the rollout's target set) — must not hold our share of
 * its chunks for the interest grace; a site-mate merely slow to link keeps it (the WAN economy).
 * The seed (WAN) answers every request 10 ms after it is made; the node ticks every 20 ms.
 */
class FetchingShareOwnerTest {
  private final SwarmConfig cfg = SwarmConfig.fast();
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of(Role.ROLE_AGENT));
  private final List<Member> members = new ArrayList<>(List.of(
      new Member(MemberInfo.of(mate.peer(), "s1", List.of("10.0.0.2:7000"), Role.ROLE_AGENT), 1, MemberStatus.ALIVE),
      new Member(MemberInfo.of(seed.peer(), "hq", List.of("10.0.0.1:7000"), Role.ROLE_SEED), 1, MemberStatus.ALIVE)));
  private final SwarmCore core = new SwarmCore(node("self"), "s1", TransferConfig.defaults(), cfg, 2, new Random(7),
      OpenLinks.ALL,
      () -> members);
  private final Fetching fetching = core.fetching();
  private final List<byte[]> data = contents(16);
  private final VerifiedManifest vm = TestManifests.ofContents("app", 1, data);
  private final int chunks = ChunkTable.of(vm.manifest()).count();
  private final List<SwarmAction.Dial> dials = new ArrayList<>();
  /** Requests to the seed, answered at [0] (virtual ms) for chunk [1]. */
  private final Queue<long[]> pending = new ArrayDeque<>();
  private boolean complete;
  private long now = 10_000;

  private static List<byte[]> contents(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[1000];
      Arrays.fill(b, (byte) (i * 7 + 1));
      out.add(b);
    }
    return out;
  }

  /** Carries out the core's actions: Yields resumed, requests to the seed queued, pieces stored fine. */
  private void drain() {
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          fetching.resume(now);
        } else if (a instanceof SwarmAction.Dial d) {
          dials.add(d);
        } else if (a instanceof SwarmAction.SendControl s && s.to().equals(seed) && s.frame().hasRequest()) {
          Request r = s.frame().getRequest();
          pending.add(new long[] {now + 10, r.getChunkIndex()});
        } else if (a instanceof SwarmAction.StoreChunk st) {
          fetching.onStored(st, StoreResult.stored(List.of()), now);
        }
      }
    }
    for (SwarmEvent e : core.pollEvents()) {
      complete |= e instanceof SwarmEvent.SessionComplete;
    }
  }

  /** Starts the session with the seed linked and its have-map in. */
  private void start() {
    ChunkTable table = ChunkTable.of(vm.manifest());
    fetching.begin(vm, table, new HaveMap(table.count()), true, now);
    core.onLinkUp(seed, now);
    drain();
    fetching.onHaveMap(seed, HaveMap.complete(chunks).toProto(vm.id()), now);
    drain();
  }

  /** Runs virtual time until the session completes (or {@code limitMillis} passed); its age then. */
  private long runToCompletion(long limitMillis) {
    long started = now;
    while (!complete && now - started < limitMillis) {
      now += 20;
      while (!pending.isEmpty() && pending.peek()[0] <= now) {
        int idx = (int) pending.poll()[1];
        fetching.onPiece(seed, Piece.newBuilder().setManifestId(vm.id().toByteString()).setChunkIndex(idx)
            .setData(ByteString.copyFrom(data.get(idx))).build(), now);
        drain();
      }
      fetching.tick(now, new HashMap<>(Map.of(seed, 0L)));
      drain();
    }
    return now - started;
  }

  @Test
  void aSiteMateWeCannotLinkToOwnsNoShare() {
    start();
    SwarmAction.Dial dial = dials.stream().filter(d -> d.peer().equals(mate.peer())).findFirst().orElseThrow();
    // its policy refuses peering (VPN), or it is asleep: the dial fails
    fetching.onDialFailed(dial.peer(), "laptop policy: no peering over VPN interface tun0 (vpn-interfaces)", now);
    drain();
    long took = runToCompletion(4 * cfg.interestGraceMillis());
    assertTrue(complete);
    assertTrue(took < cfg.silentMemberGraceMillis(),
        "every chunk fetched from the seed at once, no wait for the unreachable mate's share: took " + took + " ms");
  }

  @Test
  void aSiteMateThatOnlyServesOwnsNoShare() {
    start();
    core.onLinkUp(mate, now);
    drain();
    // not in the rollout's target set: it holds the manifest, fetches nothing, and says so
    fetching.onHaveMap(mate, new HaveMap(chunks).toProto(vm.id()).toBuilder().setServingOnly(true).build(), now);
    drain();
    long took = runToCompletion(4 * cfg.interestGraceMillis());
    assertTrue(complete);
    assertTrue(took < cfg.silentMemberGraceMillis(), "no wait for a share the mate never fetches: took " + took + " ms");
  }

  @Test
  void aSiteMateMerelySlowToLinkKeepsItsShareForTheInterestGrace() {
    start();
    // dialled, no answer yet: it may hold the manifest, we cannot see; its chunks wait for it (a
    // site-wait, the picker's takeover of a member that brings nothing, comes before the grace ends)
    long took = runToCompletion(4 * cfg.interestGraceMillis());
    assertTrue(complete);
    assertTrue(took >= TransferConfig.defaults().minSiteWaitMillis(),
        "the mate's share is not fetched over the WAN while it may still link: took " + took + " ms");
  }

  @Test
  void aSiteMateThatLinksAfterAFailedDialTakesItsShareBack() {
    start();
    fetching.onDialFailed(mate.peer(), "connection refused", now);
    drain();
    core.onLinkUp(mate, now);
    fetching.onHaveMap(mate, new HaveMap(chunks).toProto(vm.id()), now);
    drain();
    long took = runToCompletion(4 * cfg.interestGraceMillis());
    assertTrue(complete);
    assertTrue(took >= TransferConfig.defaults().minSiteWaitMillis(),
        "linked and fetching: its share is its own again (we wait a site-wait for it): took " + took + " ms");
    assertEquals(0, pending.size());
  }
}
