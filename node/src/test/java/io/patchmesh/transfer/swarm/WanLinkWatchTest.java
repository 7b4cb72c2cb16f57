package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import io.patchmesh.transfer.swarm.WanLinkWatch.WanPeer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WanLinkWatchTest {
  private final SwarmConfig cfg = SwarmConfig.defaults();
  private final WanLinkWatch watch = new WanLinkWatch(cfg);
  private final LinkRef cutSite = new LinkRef(node("cut"), 1, "s7", Set.of(Role.ROLE_AGENT));
  private final LinkRef seed = new LinkRef(node("seed"), 2, "dc", Set.of(Role.ROLE_SEED));
  private final Map<LinkRef, Long> bytes = new HashMap<>();

  /** Both links deliver until {@code cutAt}; afterwards only the seed's does. Observed every 100 ms. */
  private void run(long from, long to, long cutAt) {
    bytes.putIfAbsent(cutSite, 0L);
    for (long t = from; t <= to; t += 100) {
      if (t < cutAt) {
        bytes.merge(cutSite, 100L, Long::sum);
      }
      bytes.merge(seed, 100L, Long::sum);
      watch.observe(bytes, t);
    }
  }

  @Test
  void aLinkSilentWhileWeWaitHasItsClocksStopped() {
    run(0, 3_000, 0);
    WanLinkWatch.Judgement j =
        watch.judge(List.of(new WanPeer(cutSite, SourceState.SOURCE, 0, true), new WanPeer(seed, SourceState.SOURCE, 0, true)), 3_000);
    assertEquals(List.of(cutSite), j.excuse());
    assertEquals(Map.of(cutSite, SourceState.SILENT), j.changes());
    assertEquals(List.of(), j.abandon(), "silent, not yet abandoned");
    assertFalse(j.allSilent(), "the seed still delivers");
  }

  /** cc9c440: a cut site's link held the tail of another site that had been fetching from it. */
  @Test
  void aLinkSilentLongWhileAnotherDeliversIsBenched() {
    run(0, 10_000, 0);
    WanLinkWatch.Judgement j =
        watch.judge(List.of(new WanPeer(cutSite, SourceState.SILENT, 0, true), new WanPeer(seed, SourceState.SOURCE, 0, false)), 10_000);
    assertEquals(List.of(cutSite), j.abandon());
    assertEquals(SourceState.BENCHED, j.changes().get(cutSite));
  }

  @Test
  void whenEveryWanLinkIsSilentNothingIsAbandonedAndTheSiteIsExcused() {
    for (long t = 0; t <= 12_000; t += 100) {
      watch.observe(Map.of(cutSite, 5L, seed, 5L), t);
    }
    WanLinkWatch.Judgement j =
        watch.judge(List.of(new WanPeer(cutSite, SourceState.SILENT, 0, true), new WanPeer(seed, SourceState.SILENT, 0, true)), 12_000);
    assertEquals(List.of(), j.abandon(), "our own site's WAN is down: giving either up helps nothing");
    assertTrue(j.allSilent());
    assertEquals(2, j.excuse().size());
  }

  @Test
  void aBenchedLinkHeardFromAgainIsASourceAgain() {
    run(0, 10_000, 0);
    bytes.merge(cutSite, 1L, Long::sum);
    watch.observe(bytes, 10_100);
    WanLinkWatch.Judgement j = watch.judge(List.of(new WanPeer(cutSite, SourceState.BENCHED, 10_000, false)), 10_100);
    assertEquals(Map.of(cutSite, SourceState.SOURCE), j.changes());
  }

  @Test
  void aBenchedLinkStillSilentStaysBenched() {
    run(0, 12_000, 0);
    WanLinkWatch.Judgement j = watch.judge(List.of(new WanPeer(cutSite, SourceState.BENCHED, 10_000, false)), 12_000);
    assertEquals(Map.of(), j.changes());
  }

  @Test
  void aLinkWeAskNothingOfIsNotJudged() {
    run(0, 12_000, 0);
    WanLinkWatch.Judgement j = watch.judge(List.of(new WanPeer(cutSite, SourceState.SOURCE, 0, false)), 12_000);
    assertEquals(List.of(), j.excuse());
    assertEquals(Map.of(), j.changes());
    assertFalse(j.allSilent());
  }

  @Test
  void aReservePeerIsNeverJudgedButCountsAsAHeardLink() {
    run(0, 10_000, 0);
    WanLinkWatch.Judgement j = watch.judge(
        List.of(new WanPeer(cutSite, SourceState.SILENT, 0, true), new WanPeer(seed, SourceState.RESERVE, 0, true)), 10_000);
    assertEquals(List.of(cutSite), j.abandon());
    assertFalse(j.changes().containsKey(seed));
  }

  @Test
  void linksNoLongerUpAreForgotten() {
    run(0, 5_000, 0);
    watch.observe(Map.of(seed, 1L), 5_100);
    assertEquals(Long.MIN_VALUE, watch.heardAt(cutSite));
    assertEquals(0, watch.silentMillis(cutSite, 5_100));
  }
}
