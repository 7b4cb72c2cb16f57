package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.PieceOutcome.Kind;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ChunkPickerTest {
  private static final int N = 40;
  private static final int SIZE = 10_000;
  private static final long GRACE = 5_000;

  private final NodeId me = Ids.node("me");
  private final NodeId a = Ids.node("a");
  private final NodeId b = Ids.node("b");
  private final NodeId c = Ids.node("c");
  private final NodeId seed = Ids.node("seed");
  private final NodeId seed2 = Ids.node("seed2");
  private final ChunkTable table = Ids.table("t", N, SIZE);
  private final TransferConfig config = TransferConfig.defaults().withSiteWait(GRACE, GRACE, GRACE);

  private ChunkPicker picker(long seedValue) {
    return new ChunkPicker(me, table, new HaveMap(N), config, new Random(seedValue), 0);
  }

  private static HaveMap holding(int... chunks) {
    HaveMap map = new HaveMap(N);
    for (int i : chunks) {
      map.set(i);
    }
    return map;
  }

  private static void connect(ChunkPicker p, NodeId peer, PeerClass cls, HaveMap map) throws HaveMapException {
    p.onPeerConnected(peer, cls, 0);
    p.onHaveMap(peer, map, 0);
  }

  private static Set<Integer> set(List<Integer> list) {
    return new HashSet<>(list);
  }

  // ------------------------------------------------------------------ LAN: rarest first

  @Test
  void lanPeerGivesTheRarestChunksInTheSiteFirst() throws Exception {
    ChunkPicker p = picker(1);
    connect(p, a, PeerClass.LAN, holding(0, 1, 2));
    connect(p, b, PeerClass.LAN, holding(1, 2));
    connect(p, c, PeerClass.LAN, holding(2));
    assertEquals(List.of(0), p.pick(a, 1, 0));
    assertEquals(List.of(1), p.pick(a, 1, 0));
    assertEquals(List.of(2), p.pick(a, 1, 0));
    assertEquals(List.of(), p.pick(a, 1, 0));
  }

  @Test
  void equallyRareChunksAreOrderedDifferentlyOnEachNode() throws Exception {
    ChunkPicker p1 = picker(1);
    ChunkPicker p2 = picker(2);
    HaveMap all = HaveMap.complete(N);
    connect(p1, a, PeerClass.LAN, all);
    connect(p2, a, PeerClass.LAN, all);
    assertNotEquals(p1.pick(a, 5, 0), p2.pick(a, 5, 0));
  }

  @Test
  void neverRequestsAChunkHeldOrAlreadyInFlight() throws Exception {
    HaveMap initial = holding(0, 1, 2, 3);
    ChunkPicker p = new ChunkPicker(me, table, initial, config, new Random(3), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    connect(p, b, PeerClass.LAN, HaveMap.complete(N));
    List<Integer> fromA = p.pick(a, 20, 0);
    List<Integer> fromB = p.pick(b, 16, 0);
    assertEquals(20, fromA.size());
    assertEquals(16, fromB.size());
    Set<Integer> all = new HashSet<>(fromA);
    all.addAll(fromB);
    assertEquals(36, all.size(), "no chunk twice");
    assertTrue(all.stream().allMatch(i -> i >= 4), "none I hold");
    assertEquals(0, p.counters().lanEndgameDuplicates());
  }

  // ------------------------------------------------------------------ WAN: site economy

  private Set<Integer> ownedBy(ChunkPicker p, int rank) {
    return IntStream.range(0, N).filter(i -> p.siteRank(i) == rank).boxed().collect(Collectors.toSet());
  }

  @Test
  void wanSourceGivesOnlyChunksIOwnByRendezvous() throws Exception {
    ChunkPicker p = picker(4);
    p.onSiteMembers(Set.of(me, a, b), 0);
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    Set<Integer> mine = ownedBy(p, 0);
    assertTrue(mine.size() > 5 && mine.size() < 25, "about a third: " + mine.size());
    for (int i = 0; i < N; i++) {
      assertEquals(mine.contains(i), Rendezvous.winner(table.id(i), List.of(me, a, b)).equals(me));
    }
    assertEquals(mine, set(p.pick(seed, N, 0)));
    assertEquals(List.of(), p.pick(seed, N, 0));
  }

  @Test
  void wanSourceNeverGivesAChunkThatASiteMemberHas() throws Exception {
    ChunkPicker p = picker(5);
    p.onSiteMembers(Set.of(me), 0); // I own everything
    connect(p, a, PeerClass.LAN, holding(7, 8));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    Set<Integer> fromSeed = set(p.pick(seed, N, 0));
    assertEquals(N - 2, fromSeed.size());
    assertFalse(fromSeed.contains(7) || fromSeed.contains(8));
    assertEquals(Set.of(7, 8), set(p.pick(a, N, 0)));
  }

  @Test
  void nextRankTakesOverWhenTheOwnerStallsPastTheSiteWait() throws Exception {
    ChunkPicker p = picker(6);
    p.onSiteMembers(Set.of(me, a), 0);
    connect(p, a, PeerClass.LAN, new HaveMap(N)); // a is observed and never delivers
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    Set<Integer> owned = ownedBy(p, 0);
    assertEquals(owned, set(p.pick(seed, N, 0)));
    assertEquals(List.of(), p.pick(seed, N, GRACE - 1), "a still within its grace");
    Set<Integer> takeover = set(p.pick(seed, N, GRACE));
    assertEquals(ownedBy(p, 1), takeover);
    assertEquals(takeover.size(), p.counters().siteTakeovers());
  }

  @Test
  void anOwnerSilentOnlyWhileIWasPausedGetsAFreshGrace() throws Exception {
    ChunkPicker p = picker(6);
    p.onSiteMembers(Set.of(me, a), 0);
    connect(p, a, PeerClass.LAN, new HaveMap(N));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    p.pick(seed, N, 0);
    // I was starved until 2 x GRACE: a's Haves may be queued behind my pause, so no takeover yet.
    p.onLocalPause(2 * GRACE);
    assertEquals(List.of(), p.pick(seed, N, 2 * GRACE));
    assertEquals(List.of(), p.pick(seed, N, 3 * GRACE - 1));
    assertEquals(ownedBy(p, 1), set(p.pick(seed, N, 3 * GRACE)), "a real stall is still taken over");
  }

  @Test
  void anOwnerThatKeepsDeliveringIsNotTakenOver() throws Exception {
    ChunkPicker p = picker(7);
    p.onSiteMembers(Set.of(me, a), 0);
    connect(p, a, PeerClass.LAN, new HaveMap(N));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    p.pick(seed, N, 0);
    List<Integer> aOwns = List.copyOf(ownedBy(p, 1));
    // a brings one of its chunks in every GRACE/2: it is busy, not stalled.
    long now = 0;
    for (int k = 0; k < 4; k++) {
      now += GRACE / 2;
      p.onHave(a, aOwns.get(k), now);
      assertEquals(List.of(), p.pick(seed, N, now));
    }
    // Then it goes silent: one grace after its last delivery its remaining chunks are mine.
    assertEquals(List.of(), p.pick(seed, N, now + GRACE - 1));
    assertEquals(aOwns.size() - 4, p.pick(seed, N, now + GRACE).size());
  }

  @Test
  void aDeadMembersChunksPassToTheNextRankAtOnce() throws Exception {
    ChunkPicker p = picker(8);
    p.onSiteMembers(Set.of(me, a, b), 0);
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    Set<Integer> first = set(p.pick(seed, N, 0));
    p.onSiteMembers(Set.of(me, b), 10);
    Set<Integer> inherited = set(p.pick(seed, N, 10));
    Set<Integer> expected =
        IntStream.range(0, N)
            .filter(i -> Rendezvous.winner(table.id(i), List.of(me, b)).equals(me) && !first.contains(i))
            .boxed()
            .collect(Collectors.toSet());
    assertFalse(expected.isEmpty());
    assertEquals(expected, inherited);
  }

  @Test
  void aChunkAppearingOnTheLanCancelsItsWanFetchYetALatePieceIsKept() throws Exception {
    ChunkPicker p = picker(9);
    connect(p, a, PeerClass.LAN, new HaveMap(N));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    int chunk = p.pick(seed, 1, 0).get(0);
    List<ChunkRequest> cancels = p.onHave(a, chunk, 50);
    assertEquals(List.of(new ChunkRequest(seed, chunk)), cancels);
    assertEquals(0, p.inFlight(seed));
    assertEquals(Kind.ACCEPTED, p.onPiece(seed, chunk, 60).kind(), "raced the Cancel, still good");
    assertTrue(p.has(chunk));
  }

  @Test
  void aPeerLeavingMakesItsChunksSiteAbsentAgain() throws Exception {
    ChunkPicker p = picker(10);
    connect(p, a, PeerClass.LAN, holding(3));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    assertFalse(set(p.pick(seed, N, 0)).contains(3));
    p.onPeerGone(a, 5);
    assertEquals(List.of(3), p.pick(seed, N, 5));
  }

  @Test
  void prefersTheFastestWanSourceWhileItHasRoom() throws Exception {
    ChunkPicker p = picker(11);
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    connect(p, seed2, PeerClass.WAN, HaveMap.complete(N));
    // Measure: seed delivers 10x faster than seed2.
    int s1 = p.pick(seed, 1, 0).get(0);
    int s2 = p.pick(seed2, 1, 0).get(0);
    p.onPiece(seed, s1, 10);
    p.onPiece(seed2, s2, 100);
    assertEquals(List.of(seed, seed2), p.peersByPreference());
    assertEquals(List.of(), p.pick(seed2, 5, 100), "fast seed has room: slow one gets nothing");
    int room = p.freeSlots(seed);
    assertEquals(room, p.pick(seed, room, 100).size());
    assertEquals(3, p.pick(seed2, 3, 100).size(), "fast one full: slow one helps");
  }

  // ------------------------------------------------------------------ endgame

  @Test
  void endgameDuplicatesTheLastChunksAndCancelsTheLoser() throws Exception {
    HaveMap initial = HaveMap.complete(N);
    ChunkPicker p = new ChunkPicker(me, table, allBut(initial, 5), config, new Random(12), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    connect(p, b, PeerClass.LAN, HaveMap.complete(N));
    connect(p, c, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(List.of(5), p.pick(a, 4, 0));
    assertEquals(List.of(5), p.pick(b, 4, 1), "every missing chunk in flight: duplicate");
    assertEquals(List.of(), p.pick(c, 4, 2), "at most endgameMaxCopies copies");
    PieceOutcome won = p.onPiece(b, 5, 3);
    assertEquals(Kind.ACCEPTED, won.kind());
    assertEquals(List.of(new ChunkRequest(a, 5)), won.cancels());
    assertEquals(Kind.DUPLICATE, p.onPiece(a, 5, 4).kind());
    assertTrue(p.isComplete());
    assertEquals(1, p.counters().lanEndgameDuplicates());
  }

  @Test
  void wanPeersNeverGetEndgameDuplicatesWhileTheSourceIsConnected() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 0, 1), config, new Random(13), 0);
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    // Measure seed at 10 kB/s (a 10 kB chunk per second), then ask it for the last chunk.
    int first = p.pick(seed, 1, 0).get(0);
    p.onPiece(seed, first, 1000); // RTT ~1000 ms, 10 kB/s: the next one is expected 2000 ms later
    int last = first == 0 ? 1 : 0;
    assertEquals(List.of(last), p.pick(seed, 1, 1000));
    connect(p, seed2, PeerClass.WAN, HaveMap.complete(N));
    assertEquals(List.of(), p.pick(seed2, 1, 5000), "late: the shared link is slow, not lost");
    assertEquals(List.of(), p.pick(seed2, 1, 50_000), "very late: still no second copy across the WAN");
    assertEquals(0, p.counters().wanEndgameDuplicates());
    p.onPeerGone(seed, 50_001);
    assertEquals(List.of(last), p.pick(seed2, 1, 50_001), "its source is gone: asked anew, not duplicated");
  }

  private static HaveMap allBut(HaveMap full, int... missing) {
    HaveMap m = new HaveMap(full.chunkCount());
    Set<Integer> skip = IntStream.of(missing).boxed().collect(Collectors.toSet());
    for (int i = 0; i < full.chunkCount(); i++) {
      if (!skip.contains(i)) {
        m.set(i);
      }
    }
    return m;
  }

  // ------------------------------------------------------------------ failures

  @Test
  void aTimedOutRequestIsCancelledAndRepickedElsewhere() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 9), config, new Random(14), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    connect(p, b, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(List.of(9), p.pick(a, 1, 0));
    long deadline = p.nextDeadline();
    assertEquals(config.initialRequestTimeoutMillis(), deadline);
    assertEquals(List.of(), p.expire(deadline - 1));
    assertEquals(List.of(new ChunkRequest(a, 9)), p.expire(deadline));
    assertEquals(1, p.sourceStats().timeouts(a));
    assertTrue(p.sourceStats().throughput(a) <= SIZE * 1000.0 / deadline);
    assertEquals(List.of(), p.pick(a, 1, deadline), "not the slow peer again");
    assertEquals(List.of(9), p.pick(b, 1, deadline));
  }

  @Test
  void aRequestOnASilentLinkDoesNotTimeOutForTheSilence() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 9), config, new Random(14), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    connect(p, b, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(List.of(9), p.pick(a, 1, 0));
    long deadline = p.nextDeadline();
    p.excuseSilence(a, 60_000);
    p.excuseSilence(b, 1_000_000); // nothing outstanding there: no effect
    assertEquals(deadline + 60_000, p.nextDeadline());
    assertEquals(List.of(), p.expire(deadline + 59_999));
    assertEquals(List.of(new ChunkRequest(a, 9)), p.expire(deadline + 60_000));
  }

  @Test
  void abandoningASilentPeerHandsItsRequestsToOthersAtOnce() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 9), config, new Random(14), 0);
    connect(p, a, PeerClass.WAN, HaveMap.complete(N));
    connect(p, b, PeerClass.WAN, HaveMap.complete(N));
    assertEquals(List.of(9), p.pick(a, 1, 0));
    assertEquals(List.of(), p.pick(b, 1, 0), "in flight at a");
    assertEquals(List.of(new ChunkRequest(a, 9)), p.abandon(a, 10_000, 10_000));
    assertEquals(0, p.inFlight(a));
    assertEquals(List.of(), p.pick(a, 1, 10_001), "avoided at the silent peer");
    assertEquals(List.of(9), p.pick(b, 1, 10_001));
    assertEquals(List.of(), p.abandon(b, 10_002, 0).stream().filter(r -> r.peer().equals(a)).toList());
  }

  @Test
  void aCorruptChunkIsNeverRequestedFromThatPeerAgain() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 2), config, new Random(15), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(List.of(2), p.pick(a, 1, 0));
    p.onCorrupt(a, 2, 5);
    assertEquals(List.of(), p.pick(a, 1, Long.MAX_VALUE - 1));
    connect(p, b, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(List.of(2), p.pick(b, 1, 10));
    assertEquals(1, p.counters().corruptPieces());
  }

  @Test
  void aChunkWhoseOnlySiteCopyCameCorruptIsFetchedAcrossTheWan() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 2), config, new Random(18), 0);
    p.onSiteMembers(Set.of(me), 0); // I own everything the site lacks
    connect(p, a, PeerClass.LAN, holding(2));
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    assertEquals(List.of(), p.pick(seed, N, 0), "the site holds chunk 2");
    assertEquals(List.of(2), p.pick(a, 1, 0));
    p.onCorrupt(a, 2, 5); // one strike: a is not banned, and stays connected
    assertEquals(List.of(2), p.pick(seed, N, 5), "a's word no longer keeps 2 inside the site");
  }

  @Test
  void aSiteMateWhoseUploadsAreOffIsNoSourceAndItsChunksComeAcrossTheWan() throws Exception {
    ChunkPicker p = picker(19);
    p.onSiteMembers(Set.of(me, a), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N)); // a laptop on battery: holds it all, serves none
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    assertEquals(List.of(), p.pick(seed, N, 0), "the site holds everything");
    List<Integer> asked = p.pick(a, 1, 0);
    assertEquals(1, asked.size());
    p.onUploadsOff(a, 1);
    assertEquals(List.of(), p.pick(a, N, 1), "no source while this link lasts");
    assertEquals(N, set(p.pick(seed, N, 1)).size(), "every chunk, a's share too, across the WAN at once");
    p.onHave(a, 3, 2); // its Haves no longer bring chunks into the site
    p.onHaveMap(a, HaveMap.complete(N), 2);
    assertEquals(List.of(), p.pick(a, N, 2));
    p.onPeerGone(a, 3); // a new link is a fresh start
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    assertTrue(p.claims(a, 3));
  }

  @Test
  void aRejectedChunkIsAskedElsewhereThenRetriedAfterBackoff() throws Exception {
    ChunkPicker p = new ChunkPicker(me, table, allBut(HaveMap.complete(N), 2), config, new Random(16), 0);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    p.pick(a, 1, 0);
    p.onReject(a, 2, 0);
    assertEquals(List.of(), p.pick(a, 1, config.rejectBackoffMillis() - 1));
    assertEquals(List.of(2), p.pick(a, 1, config.rejectBackoffMillis()));
  }

  @Test
  void anUnrequestedPieceIsReportedAndNotTaken() throws Exception {
    ChunkPicker p = picker(17);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    assertEquals(Kind.UNREQUESTED, p.onPiece(a, 3, 0).kind());
    assertEquals(Kind.UNREQUESTED, p.onPiece(a, N + 5, 0).kind());
    assertFalse(p.has(3));
    assertEquals(2, p.counters().unrequestedPieces());
  }

  @Test
  void aHaveOutsideTheManifestIsAProtocolViolation() throws Exception {
    ChunkPicker p = picker(18);
    connect(p, a, PeerClass.LAN, new HaveMap(N));
    assertThrows(HaveMapException.class, () -> p.onHave(a, N, 0));
    assertThrows(HaveMapException.class, () -> p.onHave(a, -1, 0));
    assertThrows(HaveMapException.class, () -> p.onHaveMap(a, new HaveMap(N + 1), 0));
  }

  @Test
  void reportsProgressUntilComplete() throws Exception {
    ChunkPicker p = picker(19);
    connect(p, a, PeerClass.LAN, HaveMap.complete(N));
    long now = 0;
    while (!p.isComplete()) {
      for (int chunk : p.pick(a, 4, now)) {
        now++;
        assertEquals(Kind.ACCEPTED, p.onPiece(a, chunk, now).kind());
      }
    }
    assertEquals(N, p.haveCount());
    assertEquals(N, p.chunkCount());
    assertTrue(p.haveMap().isComplete());
  }

  @Test
  void pipelineDepthFollowsMeasurements() throws Exception {
    ChunkPicker p = picker(20);
    connect(p, seed, PeerClass.WAN, HaveMap.complete(N));
    assertEquals(config.initialPipeline(), p.pipelineDepth(seed));
    p.onRttSample(seed, 100);
    List<Integer> chunks = p.pick(seed, 4, 0);
    long now = 100;
    for (int chunk : chunks) {
      p.onPiece(seed, chunk, ++now); // back to back, 1 ms apart: ~10 MB/s over a 100 ms RTT
    }
    assertTrue(p.pipelineDepth(seed) > 40, "depth " + p.pipelineDepth(seed));
  }

  // ------------------------------------------------------------------ indexes on a large manifest

  @Test
  void onALargeManifestAPeersFewChunksArePickedRarestFirstAndEachOnlyOnce() throws Exception {
    int n = 5_000; // few candidates among many chunks: the picker's sparse path
    ChunkTable big = Ids.table("big", n, SIZE);
    ChunkPicker p = new ChunkPicker(me, big, new HaveMap(n), config, new Random(40), 0);
    HaveMap aHas = new HaveMap(n);
    HaveMap bHas = new HaveMap(n);
    for (int i = 0; i < 10; i++) {
      aHas.set(i * 401);
      if (i % 2 == 0) {
        bHas.set(i * 401); // held by two peers: less rare
      }
    }
    p.onPeerConnected(a, PeerClass.LAN, 0);
    p.onHaveMap(a, aHas, 0);
    p.onPeerConnected(b, PeerClass.LAN, 0);
    p.onHaveMap(b, bHas, 0);
    assertEquals(Set.of(401, 1203, 2005, 2807, 3609), set(p.pick(a, 5, 0)));
    List<Integer> next = p.pick(a, 10, 0);
    assertEquals(Set.of(0, 802, 1604, 2406, 3208), set(next));
    assertEquals(List.of(), p.pick(a, 10, 0));
    assertEquals(List.of(), p.pick(b, 10, 0), "all of b's chunks are in flight to a");
    p.onReject(a, 802, 0);
    assertEquals(List.of(802), p.pick(b, 10, 1), "a rejected chunk is open again, elsewhere");
  }

  @Test
  void onALargeManifestTheWanGivesOnlyWhatTheSiteLacks() throws Exception {
    int n = 5_000;
    ChunkTable big = Ids.table("big", n, SIZE);
    HaveMap mine = HaveMap.complete(n);
    HaveMap lacking = new HaveMap(n);
    for (int i = 0; i < n; i++) {
      if (i % 1000 != 7) {
        lacking.set(i);
      }
    }
    ChunkPicker p = new ChunkPicker(me, big, lacking, config, new Random(41), 0);
    p.onPeerConnected(a, PeerClass.LAN, 0);
    HaveMap aHas = new HaveMap(n);
    aHas.set(1007);
    p.onHaveMap(a, aHas, 0);
    p.onPeerConnected(seed, PeerClass.WAN, 0);
    p.onHaveMap(seed, mine, 0);
    assertEquals(Set.of(7, 2007, 3007, 4007), set(p.pick(seed, 10, 0)));
    assertEquals(List.of(1007), p.pick(a, 10, 0));
    assertEquals(List.of(), p.pick(seed, 10, 0));
  }
}
