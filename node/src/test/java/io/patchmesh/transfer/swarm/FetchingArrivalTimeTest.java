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
 * A piece's delay sample for {@code wan-yield} is the time it arrived (taken by the driver's I/O
 * thread), not the time the core handled it: on a busy machine the node loop takes pieces tens or
 * hundreds of ms late, and that wait, read as queuing, held the window at its floor on an idle link.
 */
class FetchingArrivalTimeTest {
  private final LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
  private final PacedPatch patch = new PacedPatch();
  private long now = 10_000;

  private List<Integer> requested(SwarmCore core) {
    List<Integer> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          core.fetching().resume(now);
        } else if (a instanceof SwarmAction.SendControl s && s.frame().hasRequest()) {
          out.add(s.frame().getRequest().getChunkIndex());
        } else if (a instanceof SwarmAction.StoreChunk st) {
          core.fetching().onStored(st, StoreResult.stored(List.of()), now);
        }
      }
    }
    core.pollEvents();
    return out;
  }

  @Test
  void aPieceHandledLateIsTimedByItsArrival() {
    SwarmCore core = PacedPatch.pacedCore();
    patch.beginFrom(core, seed, now);
    List<Integer> asked = new ArrayList<>(requested(core));
    now += 1_000; // past the WAN start delay
    core.fetching().tick(now, new HashMap<>());
    asked.addAll(requested(core));
    assertTrue(asked.size() >= 2, "asked " + asked);
    long sent = now;
    // the piece crossed the link in 40 ms; the loop took it 300 ms later
    core.fetching().onPiece(seed, patch.piece(asked.get(0)), sent + 340, sent + 40);
    assertTrue(core.fetching().pacer().describe().contains("base 40 ms"), core.fetching().pacer().describe());
    // a second one arrives from the future (a driver's mistake): it counts as arriving now, never earlier than sent
    core.fetching().onPiece(seed, patch.piece(asked.get(1)), sent + 400, sent + 900);
    assertTrue(core.fetching().pacer().describe().contains("base 40 ms"), core.fetching().pacer().describe());
  }

  @Test
  void handledOnArrivalTheWaitWouldHaveReadAsQueuing() {
    // the same, with the handling time as the sample (what the core did before): the loop's wait is in the delay
    SwarmCore core = PacedPatch.pacedCore();
    patch.beginFrom(core, seed, now);
    List<Integer> asked = new ArrayList<>(requested(core));
    now += 1_000;
    core.fetching().tick(now, new HashMap<>());
    asked.addAll(requested(core));
    long sent = now;
    core.fetching().onPiece(seed, patch.piece(asked.get(0)), sent + 340);
    assertTrue(core.fetching().pacer().describe().contains("base 340 ms"), core.fetching().pacer().describe());
  }
}
