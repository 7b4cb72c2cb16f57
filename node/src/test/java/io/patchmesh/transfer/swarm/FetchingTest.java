package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.DeltaOp;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fetching core on its own, on virtual time: fed links, have-maps, pieces and store outcomes,
 * its actions and events read back. The "driver" here carries out nothing but {@link
 * SwarmAction.Yield} (resumed at once, as the node loop would after the queued inputs).
 */
class FetchingTest {
  private final SwarmConfig cfg = SwarmConfig.fast();
  /** An agent of site s1; the seed is in another site (WAN), the mate in ours, the far agent in s2. */
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of(Role.ROLE_AGENT));
  private final LinkRef far = new LinkRef(node("far"), 3, "s2", Set.of(Role.ROLE_AGENT));
  private final Set<LinkRef> closed = new HashSet<>();
  private final List<Member> members = new ArrayList<>();
  private final SwarmCore core = new SwarmCore(node("self"), "s1", TransferConfig.defaults(), cfg, 2, new Random(7),
      new Serving.Links() {
        @Override
        public boolean isOpen(LinkRef link) {
          return !closed.contains(link);
        }

        @Override
        public boolean dataWritable(LinkRef link) {
          return !closed.contains(link);
        }
      },
      () -> members);
  private final Fetching fetching = core.fetching();
  private final List<SwarmEvent> events = new ArrayList<>();
  private final Map<LinkRef, Long> bytesIn = new HashMap<>();
  private long now = 10_000;

  private final List<byte[]> v1 = contents(4, 1);
  private final List<byte[]> v2 = contents(4, 2);
  private final VerifiedManifest m1 = TestManifests.ofContents("app", 1, v1);
  private final VerifiedManifest m2 = TestManifests.ofContents("app", 2, v2);

  private static List<byte[]> contents(int n, int version) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[1000];
      java.util.Arrays.fill(b, (byte) (i * 10 + version));
      out.add(b);
    }
    return out;
  }

  /** The actions decided since the last call, with Yields resumed at once; events go to {@link #events}. */
  private List<SwarmAction> drain() {
    List<SwarmAction> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          fetching.resume(now);
        } else {
          out.add(a);
        }
      }
    }
    events.addAll(core.pollEvents());
    return out;
  }

  private static List<Request> requests(List<SwarmAction> actions, LinkRef to) {
    List<Request> out = new ArrayList<>();
    for (SwarmAction a : actions) {
      if (a instanceof SwarmAction.SendControl s && s.to().equals(to) && s.frame().hasRequest()) {
        out.add(s.frame().getRequest());
      }
    }
    return out;
  }

  private static List<io.patchmesh.proto.HaveMap> haveMaps(List<SwarmAction> actions, LinkRef to) {
    List<io.patchmesh.proto.HaveMap> out = new ArrayList<>();
    for (SwarmAction a : actions) {
      if (a instanceof SwarmAction.SendControl s && s.to().equals(to) && s.frame().hasHaveMap()) {
        out.add(s.frame().getHaveMap());
      }
    }
    return out;
  }

  private <T extends SwarmEvent> List<T> events(Class<T> kind) {
    return events.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  private void begin(VerifiedManifest vm, boolean complete) {
    ChunkTable table = ChunkTable.of(vm.manifest());
    fetching.begin(vm, table, complete ? HaveMap.complete(table.count()) : new HaveMap(table.count()), true, now);
  }

  private List<SwarmAction> haveMapFrom(LinkRef from, VerifiedManifest vm) {
    fetching.onHaveMap(from, HaveMap.complete(ChunkTable.of(vm.manifest()).count()).toProto(vm.id()), now);
    return drain();
  }

  private Piece piece(VerifiedManifest vm, List<byte[]> data, int idx) {
    return Piece.newBuilder().setManifestId(vm.id().toByteString()).setChunkIndex(idx)
        .setData(ByteString.copyFrom(data.get(idx))).build();
  }

  /** Delivers the piece and stores it fine; the actions that follow. */
  private List<SwarmAction> deliver(LinkRef from, VerifiedManifest vm, List<byte[]> data, int idx) {
    fetching.onPiece(from, piece(vm, data, idx), now);
    SwarmAction.StoreChunk st = (SwarmAction.StoreChunk) drain().get(0);
    fetching.onStored(st, StoreResult.stored(List.of()), now);
    return drain();
  }

  @Test
  void fetchesEveryChunkFromASeedAndCompletes() {
    begin(m1, false);
    core.onLinkUp(seed, now);
    assertEquals(1, haveMaps(drain(), seed).size(), "our have-map goes to a seed unasked");
    assertTrue(requests(haveMapFrom(seed, m1), seed).isEmpty(), "no WAN request before the site had a moment");
    now += cfg.wanStartDelayMillis();
    fetching.tick(now, bytesIn);
    List<Request> asked = requests(drain(), seed);
    assertFalse(asked.isEmpty());
    Set<Integer> got = new HashSet<>();
    while (!asked.isEmpty()) {
      List<SwarmAction> next = new ArrayList<>();
      for (Request r : asked) {
        now += 5;
        got.add(r.getChunkIndex());
        next.addAll(deliver(seed, m1, v1, r.getChunkIndex()));
      }
      asked = requests(next, seed);
    }
    assertEquals(Set.of(0, 1, 2, 3), got);
    assertEquals(1, events(SwarmEvent.SessionComplete.class).size());
    assertEquals(4, events(SwarmEvent.ChunkStored.class).stream().filter(SwarmEvent.ChunkStored::fresh).count());
    ManifestSession s = fetching.session(m1.id());
    assertFalse(s.fetching());
    assertEquals(4000, s.bytesWan());
  }

  @Test
  void aPeerServingCorruptPiecesIsBannedAndItsLinkClosed() {
    begin(m1, false);
    core.onLinkUp(seed, now);
    haveMapFrom(seed, m1);
    List<SwarmAction> out = new ArrayList<>();
    for (int i = 0; i < 3; i++) { // the third strike bans (PeerScores' default)
      fetching.onPiece(seed, Piece.newBuilder().setManifestId(m1.id().toByteString()).setChunkIndex(i)
          .setData(ByteString.copyFrom(new byte[3])).build(), now);
      out.addAll(drain());
    }
    assertEquals(3, events(SwarmEvent.CorruptPiece.class).size());
    assertEquals(List.of(seed.peer()), events(SwarmEvent.PeerBanned.class).stream().map(SwarmEvent.PeerBanned::peer).toList());
    assertTrue(out.stream().anyMatch(a -> a instanceof SwarmAction.Close c && c.link().equals(seed)));
    assertTrue(core.isBanned(seed.peer(), now));
  }

  @Test
  void aFullStoreIsProbedOneChunkAtATimeAndReported() {
    List<byte[]> many = contents(40, 3);
    VerifiedManifest big = TestManifests.ofContents("big", 1, many);
    begin(big, false);
    core.onLinkUp(mate, now);
    drain();
    List<Request> asked = requests(haveMapFrom(mate, big), mate);
    assertTrue(asked.size() > 1 && asked.size() < 40, "a LAN peer is asked at once, a pipeline's worth");
    fetching.onPiece(mate, piece(big, many, asked.get(0).getChunkIndex()), now);
    SwarmAction.StoreChunk st = (SwarmAction.StoreChunk) drain().get(0);
    fetching.onStored(st, new StoreResult(StoreResult.Kind.FULL, "quota", List.of()), now);
    drain();
    assertEquals(1, events(SwarmEvent.StoreFull.class).size());
    assertEquals("quota", fetching.session(big.id()).storeFull());
    now += cfg.storeFullRetryMillis() / 2;
    fetching.tick(now, bytesIn);
    assertTrue(requests(drain(), mate).isEmpty(), "a slot is free, but nothing is asked before the retry is due");
    now += cfg.storeFullRetryMillis();
    fetching.tick(now, bytesIn);
    assertEquals(1, requests(drain(), mate).size(), "one probe at a time");
    now += 1;
    fetching.tick(now, bytesIn);
    assertTrue(requests(drain(), mate).isEmpty(), "and the next one a retry later");
  }

  /**
   * Issue 16 item 6: a delta whose base the store has dropped (corrupt on read) was reported as a
   * full store, and the base stayed advertised by the older session.
   */
  @Test
  void aDeltaWhoseBaseIsGoneIsAskedAgainInFullAndTheBaseIsWithdrawn() {
    begin(m1, true);
    begin(m2, false);
    core.onLinkUp(seed, now);
    drain();
    haveMapFrom(seed, m2);
    now += cfg.wanStartDelayMillis();
    fetching.tick(now, bytesIn);
    Request r = requests(drain(), seed).stream().filter(q -> q.getBaseIdsCount() > 0).findFirst().orElseThrow();
    ChunkId base = ChunkId.of(r.getBaseIds(0));
    fetching.onPiece(seed, Piece.newBuilder().setManifestId(m2.id().toByteString()).setChunkIndex(r.getChunkIndex())
        .setEncoding(Piece.Encoding.ENCODING_DELTA)
        .setDelta(Delta.newBuilder().addOps(DeltaOp.newBuilder().setBase(0).setOffset(0).setLength(1000))).build(), now);
    SwarmAction.StoreChunk st = (SwarmAction.StoreChunk) drain().get(0);
    assertEquals(List.of(base), st.bases().subList(0, 1));
    fetching.onStored(st, new StoreResult(StoreResult.Kind.BASE_GONE, "hash mismatch after delta", List.of(base)), now);
    List<SwarmAction> out = drain();

    assertNull(fetching.session(m2.id()).storeFull(), "our lost base is not a full store");
    assertTrue(events(SwarmEvent.StoreFull.class).isEmpty());
    assertTrue(events(SwarmEvent.CorruptPiece.class).isEmpty(), "and not the sender's fault");
    int baseIndex = v1.stream().map(ChunkId::hash).toList().indexOf(base);
    ManifestSession old = fetching.session(m1.id());
    assertFalse(old.advertised().has(baseIndex), "the base is no longer claimed");
    assertTrue(haveMaps(out, seed).stream().anyMatch(h -> h.getManifestId().equals(m1.id().toByteString())),
        "peers that had our have-map get the new one");
    now += TransferConfig.defaults().rejectBackoffMillis() + 1;
    fetching.tick(now, bytesIn);
    assertTrue(requests(drain(), seed).stream().filter(q -> q.getChunkIndex() == r.getChunkIndex())
        .allMatch(q -> q.getBaseIdsCount() == 0), "asked again, in full");
  }

  @Test
  void aChunkTheStoreLostOnReadIsRefusedAndWithdrawnFromTheHaveMap() {
    begin(m1, true);
    core.onLinkUp(mate, now);
    drain();
    Request req = Request.newBuilder().setManifestId(m1.id().toByteString()).setChunkIndex(2).setRequestId(9).build();
    core.onRequest(mate, req, now);
    SwarmAction.ReadChunk read = (SwarmAction.ReadChunk) drain().get(0);
    core.serving().onChunkRead(read.to(), read.upload(), null, false, 0); // gone: dropped as corrupt on read
    List<SwarmAction> out = drain();
    assertTrue(out.stream().noneMatch(a -> a instanceof SwarmAction.ChunkLost), "handled inside the core");
    assertTrue(out.stream().anyMatch(a -> a instanceof SwarmAction.SendControl s && s.frame().hasReject()
        && s.frame().getReject().getReason().equals("busy")));
    List<io.patchmesh.proto.HaveMap> maps = haveMaps(out, mate);
    assertEquals(1, maps.size());
    HaveMap now2 = assertDoesNotThrowFromProto(maps.get(0));
    assertFalse(now2.has(2));
    assertEquals(3, now2.count());
  }

  @Test
  void aBaseFoundGoneWhileServingADeltaIsWithdrawnAndAChunkNeverHeldIsIgnored() {
    begin(m1, true);
    core.onLinkUp(mate, now);
    drain();
    core.onChunkMissing(ChunkId.hash(new byte[] {42})); // never ours: the requester named it
    assertTrue(drain().isEmpty());
    core.onChunkMissing(ChunkId.hash(v1.get(1)));
    List<io.patchmesh.proto.HaveMap> maps = haveMaps(drain(), mate);
    assertEquals(1, maps.size());
    assertFalse(assertDoesNotThrowFromProto(maps.get(0)).has(1));
  }

  private HaveMap assertDoesNotThrowFromProto(io.patchmesh.proto.HaveMap proto) {
    try {
      return HaveMap.fromProto(proto, m1.id(), 4);
    } catch (io.patchmesh.transfer.HaveMapException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anotherSitesAgentIsHeldInReserveUntilNoSeedIsLinked() {
    begin(m1, false);
    core.onLinkUp(seed, now);
    core.onLinkUp(far, now);
    drain();
    haveMapFrom(seed, m1);
    haveMapFrom(far, m1);
    now += cfg.wanStartDelayMillis();
    fetching.tick(now, bytesIn);
    List<SwarmAction> out = drain();
    assertFalse(requests(out, seed).isEmpty());
    assertTrue(requests(out, far).isEmpty(), "the far site's uplink is spared while a seed serves");
    closed.add(seed);
    core.onLinkDown(seed, false, now);
    out = drain();
    assertFalse(requests(out, far).isEmpty(), "no seed linked: the reserve becomes a source");
  }

  @Test
  void aPeerThatClaimsChunksAndNeverDeliversIsClosedAndBanned() {
    begin(m1, false);
    core.onLinkUp(mate, now);
    drain();
    haveMapFrom(mate, m1);
    List<SwarmAction> out = new ArrayList<>();
    for (int i = 0; i < 1000 && out.stream().noneMatch(a -> a instanceof SwarmAction.Close); i++) {
      now += cfg.pauseMillis() / 2; // ticks closer than a pause: the node is not the one stalled
      fetching.tick(now, bytesIn);
      out.addAll(drain());
    }
    assertTrue(out.stream().anyMatch(a -> a instanceof SwarmAction.Close c && c.link().equals(mate)));
    assertEquals(List.of(mate.peer()), events(SwarmEvent.PeerBanned.class).stream().map(SwarmEvent.PeerBanned::peer).toList(),
        "it never delivered a verified piece: banned, not only disconnected");
  }

  @Test
  void wantsNoTickWhileIdleAndOneWithinHalfAPauseWhileFetching() {
    assertEquals(Long.MAX_VALUE, fetching.timers().nextTimerMillis(now));
    begin(m1, false);
    drain();
    long next = fetching.timers().nextTimerMillis(now);
    assertTrue(next >= now && next <= now + cfg.pauseMillis() / 2, "next " + (next - now) + " ms away");
    core.onLinkUp(mate, now);
    drain();
    int idx = requests(haveMapFrom(mate, m1), mate).get(0).getChunkIndex();
    deliver(mate, m1, v1, idx);
    assertEquals(now, fetching.timers().nextTimerMillis(now), "a new chunk is announced to the site at once");
    fetching.tick(now, bytesIn);
    drain();
    assertTrue(fetching.timers().nextTimerMillis(now) > now);
  }

  @Test
  void aSupersededLinkGoingDownKeepsWhatThePeerHasOverTheNewerOne() {
    begin(m1, false);
    core.onLinkUp(mate, now);
    drain();
    haveMapFrom(mate, m1);
    LinkRef newer = new LinkRef(mate.peer(), 9, "s1", Set.of(Role.ROLE_AGENT));
    core.onLinkUp(newer, now);
    drain();
    closed.add(mate);
    core.onLinkDown(mate, true, now);
    drain();
    List<SwarmAction> out = haveMapFrom(newer, m1);
    fetching.tick(now + 1, bytesIn);
    out.addAll(drain());
    assertFalse(requests(out, newer).isEmpty(), "asked over the newer link");
    assertTrue(fetching.session(m1.id()).sentHaveMap.contains(mate.peer()));
  }
}
