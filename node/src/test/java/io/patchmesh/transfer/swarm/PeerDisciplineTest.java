package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.RequestGuard;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerDisciplineTest {
  private final SwarmConfig cfg = SwarmConfig.defaults();
  private final PeerDiscipline d = new PeerDiscipline(cfg);
  private final NodeId liar = node("liar");
  private final NodeId seed = node("seed");

  private static List<ChunkRequest> timeouts(NodeId peer, int n) {
    return java.util.stream.IntStream.range(0, n).mapToObj(i -> new ChunkRequest(peer, i)).toList();
  }

  @Test
  void aPeerThatNeverDeliveredIsBannedOnceStalled() {
    d.onTimeouts(timeouts(liar, cfg.stalledTimeouts()), 0);
    assertEquals(List.of(), d.stalled(cfg.stalledSilenceMillis() - 1), "the count alone is not enough");
    List<PeerDiscipline.Stalled> s = d.stalled(cfg.stalledSilenceMillis());
    assertEquals(List.of(new PeerDiscipline.Stalled(liar, cfg.stalledTimeouts(), true, true)), s);
    assertTrue(d.isBanned(liar, cfg.stalledSilenceMillis()));
    assertEquals(List.of(), d.stalled(cfg.stalledSilenceMillis() + 1), "reported once");
  }

  @Test
  void aStalledPeersBanIsShortFirstAndDoublesWithEachRepeat() {
    long t = 0;
    long[] expected = {PeerDiscipline.STALL_BAN_MILLIS, 2 * PeerDiscipline.STALL_BAN_MILLIS, 4 * PeerDiscipline.STALL_BAN_MILLIS};
    for (long ban : expected) {
      d.onTimeouts(timeouts(liar, cfg.stalledTimeouts()), t);
      t += cfg.stalledSilenceMillis();
      assertEquals(1, d.stalled(t).size());
      assertTrue(d.isBanned(liar, t + ban - 1), "banned for " + ban);
      assertFalse(d.isBanned(liar, t + ban), "not longer than " + ban);
      t += ban;
    }
  }

  @Test
  void aPeerThatDeliveredBeforeIsOnlyDisconnected() {
    d.onDelivered(seed);
    d.onTimeouts(timeouts(seed, cfg.stalledTimeouts()), 0);
    List<PeerDiscipline.Stalled> s = d.stalled(cfg.stalledSilenceMillis());
    assertEquals(List.of(new PeerDiscipline.Stalled(seed, cfg.stalledTimeouts(), false, false)), s);
    assertFalse(d.isBanned(seed, cfg.stalledSilenceMillis()));
  }

  @Test
  void aPieceArrivingEndsTheRunOfTimeouts() {
    d.onTimeouts(timeouts(liar, cfg.stalledTimeouts() - 1), 0);
    d.onPieceArrived(liar);
    d.onTimeouts(timeouts(liar, 1), 1_000);
    assertEquals(List.of(), d.stalled(60_000));
  }

  @Test
  void fewerTimeoutsThanTheRuleNeverStall() {
    d.onTimeouts(timeouts(liar, cfg.stalledTimeouts() - 1), 0);
    assertEquals(List.of(), d.stalled(3_600_000));
  }

  @Test
  void offencesUpToTheDisconnectLevelAskForABan() {
    boolean disconnect = false;
    int n = 0;
    while (!disconnect && n < 100) {
      disconnect = d.offense(liar, RequestGuard.Offense.MALFORMED, 0);
      n++;
    }
    assertTrue(disconnect);
    assertEquals(4, n, "40 points of MALFORMED at 10 each");
    assertTrue(d.ban(liar, 0), "first ban counts");
    assertFalse(d.ban(liar, 0), "a second ban of the same peer is not counted again");
  }

  @Test
  void thirdCorruptPieceBansAndLaterOnesAreNotCountedAgain() {
    assertFalse(d.onCorrupt(liar, 0));
    assertFalse(d.onCorrupt(liar, 0));
    assertTrue(d.onCorrupt(liar, 0));
    assertFalse(d.onCorrupt(liar, 0));
    assertTrue(d.isBanned(liar, 0));
  }

  @Test
  void forgettingAPeerClearsItsTimeouts() {
    d.onTimeouts(timeouts(liar, cfg.stalledTimeouts()), 0);
    d.forget(liar);
    assertEquals(List.of(), d.stalled(cfg.stalledSilenceMillis()));
  }
}
