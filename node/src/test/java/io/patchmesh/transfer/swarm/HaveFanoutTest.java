package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HaveFanoutTest {
  private final LinkRef mate = new LinkRef(node("mate"), 1, "s1", Set.of(Role.ROLE_AGENT));
  private final LinkRef localSeed = new LinkRef(node("seed-a"), 2, "s1", Set.of(Role.ROLE_SEED));
  private final LinkRef farSeed = new LinkRef(node("seed-b"), 3, "dc", Set.of(Role.ROLE_SEED));
  private final LinkRef far1 = new LinkRef(node("far1"), 4, "s2", Set.of(Role.ROLE_AGENT));
  private final LinkRef far2 = new LinkRef(node("far2"), 5, "s3", Set.of(Role.ROLE_AGENT));
  private final LinkRef far3 = new LinkRef(node("far3"), 6, "s4", Set.of(Role.ROLE_AGENT));

  @Test
  void ourHaveMapGoesToTheSiteSeedsAndTheFirstTwoOtherSitesAgents() {
    List<LinkRef> order = List.of(far1, mate, farSeed, far2, localSeed, far3);
    assertTrue(HaveFanout.offeredTo(mate, "s1", order, 2));
    assertTrue(HaveFanout.offeredTo(localSeed, "s1", order, 2));
    assertTrue(HaveFanout.offeredTo(farSeed, "s1", order, 2));
    assertTrue(HaveFanout.offeredTo(far1, "s1", order, 2));
    assertTrue(HaveFanout.offeredTo(far2, "s1", order, 2));
    assertFalse(HaveFanout.offeredTo(far3, "s1", order, 2));
  }

  @Test
  void seedsHearNoHavesWhereverTheyAre() {
    assertEquals(HaveFanout.Audience.NONE, HaveFanout.audience(localSeed, "s1"));
    assertEquals(HaveFanout.Audience.NONE, HaveFanout.audience(farSeed, "s1"));
    assertEquals(HaveFanout.Audience.SITE, HaveFanout.audience(mate, "s1"));
    assertEquals(HaveFanout.Audience.OTHER_SITE, HaveFanout.audience(far1, "s1"));
  }

  @Test
  void otherSitesHearInBatchesWhatTheSiteHeardTickByTick() {
    HaveFanout.Batch b = new HaveFanout.Batch();
    b.gained(1);
    b.gained(2);
    assertEquals(List.of(1, 2), b.takeForSite());
    b.gained(3);
    assertEquals(List.of(3), b.takeForSite());
    assertFalse(b.isEmpty(), "other sites have not heard yet");
    assertEquals(List.of(1, 2, 3), b.takeForOtherSites());
    assertTrue(b.isEmpty());
    assertEquals(List.of(), b.takeForOtherSites());
  }
}
