package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A fetching node tells its site's agents of a chunk as it is stored when it came from outside the
 * site (the WAN: only we hold it there), or when the last such Have is {@link
 * FetchTimers#SITE_HAVE_GAP_MILLIS} old; a chunk from a site-mate within the gap waits until a gap
 * after that Have ({@link FetchTimers#siteHavesDueMillis}), the next chunk from outside, a full tick, or
 * {@link FetchTimers#SITE_HAVE_BATCH} waiting. A wake-up for them need not run the rest of the tick:
 * {@link FetchTimers#flushSiteHaves} sends the site's Haves and nothing else, {@link
 * FetchTimers#tickDeadlineMillis} says when the tick itself is due (the runtime's full ticks, BENCHMARKS
 * 13k), and {@link FetchTimers#nextTimerMillis} includes both.
 */
class FetchingSiteHavesTest {
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  /** A site-mate that listens (holds nothing). */
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of());
  /** A site-mate that holds all but the last 4 chunks and serves us (those come from the seed). */
  private final LinkRef server = new LinkRef(node("server"), 3, "s1", Set.of());
  private final PacedPatch patch = new PacedPatch();
  private final Map<String, List<Integer>> asked = new HashMap<>();
  private long now = 10_000;

  private SwarmCore core() {
    List<Member> members = new ArrayList<>();
    return new SwarmCore(node("self"), "s1", TransferConfig.defaults(), SwarmConfig.fast(), 2, new Random(7),
        OpenLinks.ALL, () -> members);
  }

  private String name(LinkRef l) {
    return l.equals(mate) ? "mate" : l.equals(server) ? "server" : "seed";
  }

  /** The actions decided, as text; requests are collected per peer, stores succeed at once. */
  private List<String> drain(SwarmCore core) {
    List<String> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.StoreChunk st) {
          core.fetching().onStored(st, StoreResult.stored(List.of()), now);
        } else if (a instanceof SwarmAction.SendControl s) {
          if (s.frame().hasRequest()) {
            asked.computeIfAbsent(name(s.to()), k -> new ArrayList<>()).add(s.frame().getRequest().getChunkIndex());
          }
          out.add(s.frame().getBodyCase() + " to " + name(s.to()));
        } else {
          out.add(a.getClass().getSimpleName());
        }
      }
    }
    core.pollEvents();
    return out;
  }

  /** Fetching from the serving site-mate and the seed, the listening mate linked; past the WAN start delay. */
  private SwarmCore fetching() {
    SwarmCore core = core();
    Fetching f = core.fetching();
    patch.beginFrom(core, seed, now);
    core.onLinkUp(mate, now);
    core.onLinkUp(server, now);
    ChunkTable table = ChunkTable.of(patch.vm.manifest());
    f.onHaveMap(mate, new HaveMap(table.count()).toProto(patch.vm.id()), now);
    HaveMap most = new HaveMap(table.count());
    for (int i = 0; i < table.count() - 4; i++) {
      most.set(i);
    }
    f.onHaveMap(server, most.toProto(patch.vm.id()), now);
    drain(core);
    now += 1_000; // past the WAN start delay
    f.tick(now, new HashMap<>());
    drain(core);
    assertFalse(waiting(f));
    return core;
  }

  /** The next chunk asked of {@code peer} and not delivered yet. */
  private int next(String peer, int[] taken) {
    List<Integer> l = asked.get(peer);
    assertTrue(l != null && l.size() > taken[0], peer + " was asked: " + asked);
    return l.get(taken[0]++);
  }

  @Test
  void chunksFromSiteMatesAreToldAGapApartWithoutTheRestOfTheTick() {
    SwarmCore core = fetching();
    Fetching f = core.fetching();
    int[] fromServer = {0};
    long deadline = f.timers().tickDeadlineMillis(now);
    assertTrue(deadline > now && deadline < Long.MAX_VALUE, "the requests' clocks are a deadline: " + deadline);

    now += 40;
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    assertTrue(drain(core).contains("HAVE to mate"), "the first chunk stored is told to the site at once");
    assertFalse(waiting(f));
    assertEquals(Long.MAX_VALUE, f.timers().siteHavesDueMillis());
    long told = now;

    now += 5; // a second chunk from a site-mate within the gap waits until a gap after the last Have
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    assertFalse(drain(core).contains("HAVE to mate"));
    assertTrue(waiting(f), "a chunk was gained");
    assertEquals(told + FetchTimers.SITE_HAVE_GAP_MILLIS, f.timers().siteHavesDueMillis());
    assertTrue(f.timers().nextTimerMillis(now) <= f.timers().siteHavesDueMillis(), "the core wants its time by then");
    assertTrue(f.timers().tickDeadlineMillis(now) > now, "but nothing else of the tick is due");

    now = told + FetchTimers.SITE_HAVE_GAP_MILLIS;
    f.timers().flushSiteHaves(now);
    List<String> sent = drain(core);
    assertTrue(sent.contains("HAVE to mate"), "the site-mate hears of the chunk: " + sent);
    assertTrue(sent.stream().allMatch(x -> x.startsWith("HAVE to ")), "and nothing else happens: " + sent);
    assertFalse(waiting(f));
    f.timers().flushSiteHaves(now);
    assertEquals(List.of(), drain(core), "nothing twice");

    now += FetchTimers.SITE_HAVE_GAP_MILLIS; // a slow fetch: each chunk's Have goes as it is stored
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    assertTrue(drain(core).contains("HAVE to mate"));
    assertFalse(waiting(f));
  }

  @Test
  void aChunkFromOutsideTheSiteIsToldAtOnceWithWhatWaits() {
    SwarmCore core = fetching();
    Fetching f = core.fetching();
    int[] fromServer = {0};
    int[] fromSeed = {0};
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    assertTrue(drain(core).contains("HAVE to mate"));
    now += 5;
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    assertFalse(drain(core).contains("HAVE to mate"), "a site-mate's chunk waits");
    now += 5;
    f.onPiece(seed, patch.piece(next("seed", fromSeed)), now);
    assertTrue(drain(core).contains("HAVE to mate"), "the WAN's goes at once, and the waiting one with it");
    assertFalse(waiting(f));
  }

  @Test
  void aFullTickTellsTheSiteAndRestartsTheGap() {
    SwarmCore core = fetching();
    Fetching f = core.fetching();
    int[] fromServer = {0};
    f.onPiece(server, patch.piece(next("server", fromServer)), now); // told at once
    drain(core);
    now += 10;
    f.onPiece(server, patch.piece(next("server", fromServer)), now); // waits
    drain(core);
    assertTrue(waiting(f));
    now += 30;
    f.tick(now, new HashMap<>());
    assertTrue(drain(core).contains("HAVE to mate"), "the full tick sends what waits");
    assertFalse(waiting(f));
    long tick = now;
    now += 10;
    f.onPiece(server, patch.piece(next("server", fromServer)), now);
    drain(core);
    assertEquals(tick + FetchTimers.SITE_HAVE_GAP_MILLIS, f.timers().siteHavesDueMillis(), "a gap after the tick's Haves");
  }

  @Test
  void manyChunksWaitingGoAtOnce() {
    SwarmCore core = fetching();
    Fetching f = core.fetching();
    int[] fromServer = {0};
    f.onPiece(server, patch.piece(next("server", fromServer)), now); // told at once
    drain(core);
    int haves = 0;
    for (int i = 1; i <= FetchTimers.SITE_HAVE_BATCH; i++) { // each piece stored asks for more
      now += 1;
      f.onPiece(server, patch.piece(next("server", fromServer)), now);
      haves += drain(core).contains("HAVE to mate") ? 1 : 0;
    }
    assertEquals(1, haves, "the batch went once, well within the gap");
    assertFalse(waiting(f));
  }

  @Test
  void anIdleCoreHasNoDeadline() {
    SwarmCore core = core();
    assertEquals(Long.MAX_VALUE, core.fetching().timers().tickDeadlineMillis(now));
    assertFalse(waiting(core.fetching()));
    assertEquals(Long.MAX_VALUE, core.fetching().timers().nextTimerMillis(now));
  }

  /** True if chunks gained wait to be told to the site (their Haves are due at some time). */
  private static boolean waiting(Fetching f) {
    return f.timers().siteHavesDueMillis() != Long.MAX_VALUE;
  }
}
