package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinkPreferenceTest {
  static final NodeId LOW = NodeId.fromHex("00".repeat(32));
  static final NodeId HIGH = NodeId.fromHex("ff".repeat(32));

  @Test
  void linkDialledByTheLowerIdWinsASimultaneousDialOnBothEnds() {
    // Each end numbers its links in its own order; the rule must not depend on that.
    LinkPreference byLow = new LinkPreference(LOW, 5, 1);
    LinkPreference byHigh = new LinkPreference(HIGH, 5, 2);
    assertTrue(byLow.beats(byHigh));
    assertFalse(byHigh.beats(byLow));
    assertTrue(new LinkPreference(LOW, 5, 2).beats(new LinkPreference(HIGH, 5, 1)));
  }

  @Test
  void linkOfAHigherEpochWinsBecauseAPeerRestarted() {
    assertTrue(new LinkPreference(HIGH, 6, 1).beats(new LinkPreference(LOW, 5, 2)));
    assertFalse(new LinkPreference(LOW, 5, 2).beats(new LinkPreference(HIGH, 6, 1)));
  }

  @Test
  void newerLinkOfTheSameDiallerReplacesTheOlder() {
    assertTrue(new LinkPreference(HIGH, 5, 9).beats(new LinkPreference(HIGH, 5, 3)));
    assertFalse(new LinkPreference(HIGH, 5, 3).beats(new LinkPreference(HIGH, 5, 9)));
  }

  @Test
  void aDiallerKeepsAnUpLinkOnlyWhereThePeerWouldKeepItToo() {
    // The peer dialled the up link; our fresh dial wins the tie-break: the peer keeps ours, so must we.
    assertFalse(new LinkPreference(HIGH, 5, 1).keptOver(new LinkPreference(LOW, 5, 2)));
    // The peer's link wins: keep it and drop ours.
    assertTrue(new LinkPreference(LOW, 5, 1).keptOver(new LinkPreference(HIGH, 5, 2)));
    // We dialled both (another address of the same node): one is enough, unless the peer restarted.
    assertTrue(new LinkPreference(LOW, 5, 1).keptOver(new LinkPreference(LOW, 5, 2)));
    assertFalse(new LinkPreference(LOW, 5, 1).keptOver(new LinkPreference(LOW, 6, 2)));
  }
}
