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
 * {@link FetchTimers#SITE_HAVE_GAP_MILLIS} of the last such Have, at its next wake-up; that wake-up
 * need not run the rest of the tick: {@link Fetching#flushSiteHaves} sends the site's Haves
 * and nothing else, {@link Fetching#tickDeadlineMillis} says when the tick itself is due (the
 * runtime's full ticks, BENCHMARKS 13k), and {@link Fetching#nextTimerMillis} is what it was.
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

    now += 5; // a second chunk within the gap waits for the next wake-up
    f.onPiece(seed, patch.piece(asked.get(1)), now);
    assertFalse(drain(core, asked).contains("HAVE to mate"));
    assertTrue(f.hasHavesForSite(), "a chunk was gained");
    assertEquals(now, f.nextTimerMillis(now), "the core wants a tick now, as before");
    assertTrue(f.tickDeadlineMillis(now) > now, "but nothing else of the tick is due");

    now += 20;
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
  void anIdleCoreHasNoDeadline() {
    SwarmCore core = core();
    assertEquals(Long.MAX_VALUE, core.fetching().tickDeadlineMillis(now));
    assertFalse(core.fetching().hasHavesForSite());
    assertEquals(Long.MAX_VALUE, core.fetching().nextTimerMillis(now));
  }
}
