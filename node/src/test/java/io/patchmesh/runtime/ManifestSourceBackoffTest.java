package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestSourceBackoffTest {
  private static final long FIRST = ManifestSourceBackoff.FIRST_BACKOFF_MILLIS;
  private static final long MAX = ManifestSourceBackoff.MAX_BACKOFF_MILLIS;
  private final ManifestSourceBackoff backoff = new ManifestSourceBackoff();
  private final NodeId rogue = node("rogue");

  private static NodeId node(String name) {
    return NodeId.ofPublicKey(name.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aSourceWhoseCopyFailedIsAskedForNothingUntilItsBackoffEnds() {
    assertFalse(backoff.backedOff(rogue, 0));
    assertEquals(FIRST, backoff.failed(rogue, 0));
    assertTrue(backoff.backedOff(rogue, FIRST - 1), "so its second fake id is not fetched meanwhile");
    assertFalse(backoff.backedOff(rogue, FIRST));
    assertFalse(backoff.backedOff(node("seed"), 1), "other sources are untouched");
  }

  @Test
  void theBackoffDoublesAtEachFailureUpToItsCeiling() {
    long now = 0;
    long expected = FIRST;
    for (int i = 0; i < 10; i++) {
      long until = backoff.failed(rogue, now);
      assertEquals(Math.min(expected, MAX), until - now);
      now = until; // fails again as soon as it is asked again
      expected *= 2;
    }
  }

  @Test
  void aSourceThatStaysCleanLongEnoughStartsOver() {
    long until = backoff.failed(rogue, 0);
    until = backoff.failed(rogue, until);
    assertEquals(2 * FIRST, until - FIRST);
    long later = until + MAX + 1;
    assertEquals(later + FIRST, backoff.failed(rogue, later));
  }

  @Test
  void aCrowdOfSourcesIsRememberedWithinABound() {
    for (int i = 0; i < ManifestSourceBackoff.MAX_SOURCES + 10; i++) {
      backoff.failed(node("rogue-" + i), 0);
    }
    assertFalse(backoff.backedOff(node("rogue-0"), 1), "the oldest is forgotten");
    assertTrue(backoff.backedOff(node("rogue-" + (ManifestSourceBackoff.MAX_SOURCES + 9)), 1));
  }
}
