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
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A fetching node tells its site's agents of a chunk as it is stored, or, within
 * {@link FetchTimers#SITE_HAVE_GAP_MILLIS} of the last such Have, a gap after that Have
 * ({@link Fetching#siteHavesDueMillis}), or at once when {@link FetchTimers#SITE_HAVE_BATCH} wait; a
 * wake-up for them need not run the rest of the tick: {@link Fetching#flushSiteHaves} sends the
 * site's Haves and nothing else, {@link Fetching#tickDeadlineMillis} says when the tick itself is due
 * (the runtime's full ticks, BENCHMARKS 13k), and {@link Fetching#nextTimerMillis} includes both.
 */
class FetchingSiteHavesTest {
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final LinkRef mate = new LinkRef(node("mate"), 2, "s1", Set.of());
  private final PacedPatch patch = new PacedPatch();
  private long now = 10_000;

  private SwarmCore core() {
    List<Member> members = new ArrayList<>();
    return new SwarmCore(node("self"), "s1", TransferConfig.defaults(), SwarmConfig.fast(), 2, new Random(7),
        OpenLinks.ALL, () -> members);
  }

  /** The actions decided, as text; requests are collected, stores succeed at once. */
  private List<String> drain(SwarmCore core, List<Integer> asked) {
    List<String> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.StoreChunk st) {
          core.fetching().onStored(st, StoreResult.stored(List.of()), now);
        } else if (a instanceof SwarmAction.SendControl s) {
          if (s.frame().hasRequest()) {
            asked.add(s.frame().getRequest().getChunkIndex());
          }
          out.add(s.frame().getBodyCase() + " to " + (s.to().equals(mate) ? "mate" : "seed"));
        } else {
          out.add(a.getClass().getSimpleName());
        }
      }
    }
    core.pollEvents();
    return out;
  }

  @Test
  void aChunkGainedIsToldToTheSiteAloneWithoutTheRestOfTheTick() {
    SwarmCore core = core();
    Fetching f = core.fetching();
    patch.beginFrom(core, seed, now);
    core.onLinkUp(mate, now);
    ChunkTable table = ChunkTable.of(patch.vm.manifest());
    f.onHaveMap(mate, new HaveMap(table.count()).toProto(patch.vm.id()), now);
    List<Integer> asked = new ArrayList<>();
    drain(core, asked);
    now += 1_000; // past the WAN start delay
    f.tick(now, new HashMap<>());
    drain(core, asked);
    assertTrue(asked.size() >= 3, "the seed is asked: " + asked);
    assertFalse(f.hasHavesForSite());
    long deadline = f.tickDeadlineMillis(now);
    assertTrue(deadline > now && deadline < Long.MAX_VALUE, "the requests' clocks are a deadline: " + deadline);

    now += 40;
    f.onPiece(seed, patch.piece(asked.get(0)), now);
    assertTrue(drain(core, asked).contains("HAVE to mate"), "the first chunk stored is told to the site at once");
    assertFalse(f.hasHavesForSite());
    assertEquals(Long.MAX_VALUE, f.siteHavesDueMillis());
    long told = now;

    now += 5; // a second chunk within the gap waits until a gap after the last Have
    f.onPiece(seed, patch.piece(asked.get(1)), now);
    assertFalse(drain(core, asked).contains("HAVE to mate"));
    assertTrue(f.hasHavesForSite(), "a chunk was gained");
    assertEquals(told + FetchTimers.SITE_HAVE_GAP_MILLIS, f.siteHavesDueMillis());
    assertTrue(f.nextTimerMillis(now) <= f.siteHavesDueMillis(), "the core wants its time by then");
    assertTrue(f.tickDeadlineMillis(now) > now, "but nothing else of the tick is due");

    now = told + FetchTimers.SITE_HAVE_GAP_MILLIS;
    f.flushSiteHaves(now);
    List<String> sent = drain(core, asked);
    assertEquals(List.of("HAVE to mate"), sent, "the site-mate hears of the chunk, and nothing else happens");
    assertFalse(f.hasHavesForSite());
    f.flushSiteHaves(now);
    assertEquals(List.of(), drain(core, asked), "nothing twice");

    now += FetchTimers.SITE_HAVE_GAP_MILLIS; // a slow fetch: each chunk's Have goes as it is stored
    f.onPiece(seed, patch.piece(asked.get(2)), now);
    assertTrue(drain(core, asked).contains("HAVE to mate"));
    assertFalse(f.hasHavesForSite());
  }

  @Test
  void aFullTickTellsTheSiteAndRestartsTheGap() {
    SwarmCore core = core();
    Fetching f = core.fetching();
    patch.beginFrom(core, seed, now);
    core.onLinkUp(mate, now);
    ChunkTable table = ChunkTable.of(patch.vm.manifest());
    f.onHaveMap(mate, new HaveMap(table.count()).toProto(patch.vm.id()), now);
    List<Integer> asked = new ArrayList<>();
    drain(core, asked);
    now += 1_000;
    f.tick(now, new HashMap<>());
    drain(core, asked);
    f.onPiece(seed, patch.piece(asked.get(0)), now); // told at once
    drain(core, asked);
    now += 10;
    f.onPiece(seed, patch.piece(asked.get(1)), now); // waits
    drain(core, asked);
    assertTrue(f.hasHavesForSite());
    now += 30;
    f.tick(now, new HashMap<>());
    assertTrue(drain(core, asked).contains("HAVE to mate"), "the full tick sends what waits");
    assertFalse(f.hasHavesForSite());
    now += 10;
    f.onPiece(seed, patch.piece(asked.get(2)), now);
    drain(core, asked);
    assertEquals(now - 10 + FetchTimers.SITE_HAVE_GAP_MILLIS, f.siteHavesDueMillis(), "a gap after the tick's Haves");
  }

  @Test
  void manyChunksWaitingGoAtOnce() {
    SwarmCore core = core();
    Fetching f = core.fetching();
    patch.beginFrom(core, seed, now);
    core.onLinkUp(mate, now);
    ChunkTable table = ChunkTable.of(patch.vm.manifest());
    f.onHaveMap(mate, new HaveMap(table.count()).toProto(patch.vm.id()), now);
    List<Integer> asked = new ArrayList<>();
    drain(core, asked);
    now += 1_000;
    f.tick(now, new HashMap<>());
    drain(core, asked);
    f.onPiece(seed, patch.piece(asked.get(0)), now); // told at once
    drain(core, asked);
    int haves = 0;
    for (int i = 1; i <= FetchTimers.SITE_HAVE_BATCH; i++) { // each piece stored asks for more
      now += 1;
      f.onPiece(seed, patch.piece(asked.get(i)), now);
      haves += drain(core, asked).contains("HAVE to mate") ? 1 : 0;
    }
    assertEquals(1, haves, "the batch went once, well within the gap");
    assertFalse(f.hasHavesForSite());
  }

  @Test
  void anIdleCoreHasNoDeadline() {
    SwarmCore core = core();
    assertEquals(Long.MAX_VALUE, core.fetching().tickDeadlineMillis(now));
    assertFalse(core.fetching().hasHavesForSite());
    assertEquals(Long.MAX_VALUE, core.fetching().nextTimerMillis(now));
  }
}
