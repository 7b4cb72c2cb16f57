package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * When the first WAN request of a session goes, on virtual time: not before the site's members that
 * share the WAN fetches were heard from (their have-maps: who owns which chunk, and what the site
 * already holds), and not later either — once every one of them was heard the WAN start delay
 * ({@link SwarmConfig#wanStartDelayMillis}, 1 s) is cut short (BENCHMARKS 13p: a second of idle
 * site link per rollout). A member that sees no site-mate waits the delay out, as before. A manifest
 * new to us (no chunk of it held, none a delta of an older version's) has nothing a site-mate's
 * have-map could tell: its WAN share is asked for at once (BENCHMARKS 13y).
 */
class FetchingWanStartTest {
  private final SwarmConfig cfg = SwarmConfig.defaults();
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of(Role.ROLE_AGENT));
  private final LinkRef mate2 = new LinkRef(node("mate2"), 3, "s1", Set.of(Role.ROLE_AGENT));
  private final PacedPatch patch = new PacedPatch();
  private final int chunks = ChunkTable.of(patch.vm.manifest()).count();
  private long now = 10_000;

  private static Member member(LinkRef l, String site, Role role) {
    return new Member(MemberInfo.of(l.peer(), site, List.of("10.0.0.9:7000"), role), 1, MemberStatus.ALIVE);
  }

  private SwarmCore core(List<Member> members) {
    return new SwarmCore(node("self"), "s1", TransferConfig.defaults(), cfg, 2, new Random(7), OpenLinks.ALL,
        () -> members);
  }

  /** Requests to the seed among the actions decided (stores succeed, yields resume). */
  private int seedRequests(SwarmCore core) {
    int n = 0;
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.SendControl s && s.to().equals(seed) && s.frame().hasRequest()) {
          n++;
        }
      }
    }
    core.pollEvents();
    return n;
  }

  /**
   * The session begins holding chunk 0 already (so what the site holds matters), the seed holding
   * everything; the site-mates' links are up.
   */
  private SwarmCore begin(List<Member> members, LinkRef... mates) {
    HaveMap mine = new HaveMap(chunks);
    mine.set(0);
    return begin(members, mine, mates);
  }

  private SwarmCore begin(List<Member> members, HaveMap mine, LinkRef... mates) {
    SwarmCore core = core(members);
    for (LinkRef m : mates) {
      core.onLinkUp(m, now);
    }
    core.fetching().begin(patch.vm, ChunkTable.of(patch.vm.manifest()), mine, true, now);
    core.onLinkUp(seed, now);
    core.fetching().onHaveMap(seed, HaveMap.complete(chunks).toProto(patch.vm.id()), now);
    return core;
  }

  private void haveMapFrom(SwarmCore core, LinkRef from) {
    core.fetching().onHaveMap(from, new HaveMap(chunks).toProto(patch.vm.id()), now);
  }

  @Test
  void theSeedIsAskedAsSoonAsEverySiteMateWasHeard() {
    List<Member> members = new ArrayList<>(List.of(member(mate, "s1", Role.ROLE_AGENT),
        member(mate2, "s1", Role.ROLE_AGENT), member(seed, "hq", Role.ROLE_SEED)));
    SwarmCore core = begin(members, mate, mate2);
    assertEquals(0, seedRequests(core), "nobody of the site heard yet: no WAN request");
    now += 20;
    haveMapFrom(core, mate);
    core.fetching().tick(now, new HashMap<>());
    assertEquals(0, seedRequests(core), "one site-mate of two heard: its share is known, the other's not yet");
    now += 30;
    haveMapFrom(core, mate2);
    core.fetching().tick(now, new HashMap<>());
    int asked = seedRequests(core);
    assertTrue(asked > 0, "every site-mate heard 50 ms into the session: the seed is asked now, not at 1 s");
    assertTrue(asked < chunks, "only our share of the chunks: " + asked + " of " + chunks);
  }

  @Test
  void aSiteMateNeverHeardHoldsTheWanForTheStartDelayOnly() {
    List<Member> members = new ArrayList<>(List.of(member(mate, "s1", Role.ROLE_AGENT), member(seed, "hq", Role.ROLE_SEED)));
    SwarmCore core = begin(members, mate);
    for (long t = 0; t < cfg.wanStartDelayMillis(); t += 100) {
      core.fetching().tick(now + t, new HashMap<>());
      assertEquals(0, seedRequests(core), "the site-mate is silent at +" + t + " ms");
    }
    now += cfg.wanStartDelayMillis();
    core.fetching().tick(now, new HashMap<>());
    assertTrue(seedRequests(core) > 0, "the start delay is over");
  }

  @Test
  void aManifestNewToUsIsAskedForAtOnceWhenSiteMatesAreSeen() {
    List<Member> members = new ArrayList<>(List.of(member(mate, "s1", Role.ROLE_AGENT),
        member(mate2, "s1", Role.ROLE_AGENT), member(seed, "hq", Role.ROLE_SEED)));
    SwarmCore core = begin(members, new HaveMap(chunks), mate, mate2);
    core.fetching().tick(now, new HashMap<>());
    int asked = seedRequests(core);
    assertTrue(asked > 0, "nothing of it held, nothing a site-mate's have-map could tell: the seed is asked at once");
    assertTrue(asked < chunks, "only our share, the silent site-mates keep theirs: " + asked + " of " + chunks);
  }

  @Test
  void aManifestNewToUsStillWaitsWhileNoSiteMateIsSeen() {
    SwarmCore core = begin(new ArrayList<>(List.of(member(seed, "hq", Role.ROLE_SEED))), new HaveMap(chunks));
    core.fetching().tick(now, new HashMap<>());
    assertEquals(0, seedRequests(core), "alone in its view it would own every chunk: it may be about to hear of site-mates");
    now += cfg.wanStartDelayMillis();
    core.fetching().tick(now, new HashMap<>());
    assertTrue(seedRequests(core) > 0);
  }

  @Test
  void aMemberAloneInItsViewWaitsTheStartDelayOut() {
    SwarmCore core = begin(new ArrayList<>(List.of(member(seed, "hq", Role.ROLE_SEED))));
    now += cfg.wanStartDelayMillis() / 2;
    core.fetching().tick(now, new HashMap<>());
    assertFalse(seedRequests(core) > 0, "alone in its view: it may be about to hear of site-mates");
    now += cfg.wanStartDelayMillis() / 2;
    core.fetching().tick(now, new HashMap<>());
    assertTrue(seedRequests(core) > 0);
  }
}
