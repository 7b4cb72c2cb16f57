package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import org.junit.jupiter.api.Test;

class PeerScoresTest {
  private final NodeId bad = Ids.node("bad");
  private final NodeId good = Ids.node("good");

  @Test
  void bansAfterThreeCorruptChunksByDefault() {
    PeerScores scores = new PeerScores(PeerScores.Config.defaults());
    assertEquals(PeerScores.Verdict.OK, scores.onCorrupt(bad, 0));
    assertEquals(PeerScores.Verdict.OK, scores.onCorrupt(bad, 1));
    assertFalse(scores.isBanned(bad, 2));
    assertEquals(PeerScores.Verdict.BANNED, scores.onCorrupt(bad, 2));
    assertTrue(scores.isBanned(bad, 3));
    assertFalse(scores.isBanned(good, 3));
  }

  @Test
  void strikesHalveEveryHourWithoutANewOne() {
    PeerScores scores = new PeerScores(PeerScores.Config.defaults());
    long hour = PeerScores.STRIKE_HALF_LIFE_MILLIS;
    scores.onCorrupt(bad, 0);
    scores.onCorrupt(bad, 1);
    assertEquals(PeerScores.Verdict.OK, scores.onCorrupt(bad, 1 + hour), "two strikes an hour ago count as one");
    assertEquals(2, scores.strikes(bad));
    assertEquals(PeerScores.Verdict.OK, scores.onCorrupt(bad, 1 + 3 * hour), "two hours later: 2 -> 0, then this one");
    assertEquals(1, scores.strikes(bad));
    scores.onCorrupt(bad, 2 + 3 * hour);
    assertEquals(PeerScores.Verdict.BANNED, scores.onCorrupt(bad, 3 + 3 * hour), "three in a row still ban");
  }

  @Test
  void banExpiresAndRepeatBansLastLonger() {
    PeerScores scores = new PeerScores(new PeerScores.Config(1, 1000, 3000));
    scores.onCorrupt(bad, 0);
    assertTrue(scores.isBanned(bad, 999));
    assertFalse(scores.isBanned(bad, 1000));
    scores.onCorrupt(bad, 1000);
    assertEquals(3000, scores.bannedUntil(bad, 1000));
    assertTrue(scores.isBanned(bad, 2999));
    scores.onCorrupt(bad, 3000);
    assertEquals(6000, scores.bannedUntil(bad, 3000), "capped at maxBanMillis");
  }

  @Test
  void strikesRestartAfterABan() {
    PeerScores scores = new PeerScores(new PeerScores.Config(2, 100, 100));
    scores.onCorrupt(bad, 0);
    scores.onCorrupt(bad, 0);
    assertEquals(0, scores.strikes(bad));
    assertEquals(PeerScores.Verdict.OK, scores.onCorrupt(bad, 200));
    assertEquals(1, scores.strikes(bad));
  }
}
