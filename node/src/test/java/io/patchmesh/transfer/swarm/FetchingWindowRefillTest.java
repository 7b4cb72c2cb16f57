package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A paced WAN source's window ({@code wan-yield}) counts the bytes asked and not arrived, so a
 * piece that arrives makes room at once: the next request goes at the resume that follows, not
 * after the worker has hashed and stored the piece. With windows of one or two chunks (the field
 * bench: 12-100 KiB per agent for 37 KiB chunks) the store's tens of ms on a busy machine were a
 * gap in every round trip, and the site link idled (BENCHMARKS 13i).
 */
class FetchingWindowRefillTest {
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final PacedPatch patch = new PacedPatch();
  /** StoreChunk actions the "worker" has not finished yet. */
  private final List<SwarmAction.StoreChunk> storing = new ArrayList<>();
  private long now = 10_000;

  /** Carries out the core's actions except stores, which wait in {@link #storing}; the requests sent. */
  private List<Integer> requested(SwarmCore core) {
    List<Integer> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.SendControl s && s.frame().hasRequest()) {
          out.add(s.frame().getRequest().getChunkIndex());
        } else if (a instanceof SwarmAction.StoreChunk st) {
          storing.add(st);
        }
      }
    }
    core.pollEvents();
    return out;
  }

  private SwarmCore started(List<Integer> asked) {
    SwarmCore core = PacedPatch.pacedCore();
    patch.beginFrom(core, seed, now);
    asked.addAll(requested(core));
    now += 1_000; // past the WAN start delay
    core.fetching().tick(now, new HashMap<>());
    asked.addAll(requested(core));
    return core;
  }

  @Test
  void anArrivedPieceLetsTheNextRequestGoBeforeItIsStored() {
    List<Integer> asked = new ArrayList<>();
    SwarmCore core = started(asked);
    assertEquals(2, asked.size(), "the initial window: two chunks");
    now += 40;
    core.fetching().onPiece(seed, patch.piece(asked.get(0)), now, now);
    List<Integer> next = requested(core);
    assertEquals(1, storing.size(), "the piece is still being stored");
    assertTrue(!next.isEmpty(), "the window had room: a request went before the store finished");
    assertTrue(next.stream().noneMatch(asked::contains), "no chunk asked twice: " + asked + " then " + next);
    assertEquals(2000 + 1000 * (next.size() - 1), core.fetching().pacer().inFlightBytes(seed.peer()),
        "in flight: the other first request and the new ones");
  }

  @Test
  void aPieceThatFreedNoWindowPumpsNothingEarly() {
    List<Integer> asked = new ArrayList<>();
    SwarmCore core = started(asked);
    now += 40;
    core.fetching().onPiece(seed, patch.piece(asked.get(0)), now, now);
    requested(core);
    // the same piece again (a duplicate): the window counted it once, nothing more to ask now
    core.fetching().onPiece(seed, patch.piece(asked.get(0)), now + 1, now + 1);
    assertEquals(List.of(), requested(core));
  }
}
