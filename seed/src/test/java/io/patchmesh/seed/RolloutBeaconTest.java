package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.trust.ManifestId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rollout state goes out when it changes, to new links, and every 30 s: not once a second. */
class RolloutBeaconTest {
  private static final ManifestId M = ManifestId.ofManifestBytes(new byte[] {1});
  private static final ManifestId N = ManifestId.ofManifestBytes(new byte[] {2});

  /** Links are compared by identity, like PeerLinks: a relinked agent is a new object. */
  private static final class Link {
    final String name;

    Link(String name) {
      this.name = name;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  @Test
  void anUnchangedStateIsRepeatedOnlyAfterTheRepeatPeriod() {
    RolloutBeacon beacon = new RolloutBeacon();
    Link a = new Link("a");
    Link b = new Link("b");
    assertEquals(List.of(a, b), beacon.due(M, "stage 1", List.of(a, b), 1_000));
    for (long t = 2_000; t < 1_000 + RolloutBeacon.REPEAT_MILLIS; t += 1_000) {
      assertEquals(List.of(), beacon.due(M, "stage 1", List.of(a, b), t), "judgement at " + t);
    }
    assertEquals(List.of(a, b), beacon.due(M, "stage 1", List.of(a, b), 1_000 + RolloutBeacon.REPEAT_MILLIS));
  }

  @Test
  void aChangeGoesToEveryLinkAtOnce() {
    RolloutBeacon beacon = new RolloutBeacon();
    Link a = new Link("a");
    Link b = new Link("b");
    beacon.due(M, "stage 1", List.of(a, b), 1_000);
    assertEquals(List.of(a, b), beacon.due(M, "stage 2", List.of(a, b), 2_000));
    assertEquals(List.of(), beacon.due(M, "stage 2", List.of(a, b), 3_000));
  }

  @Test
  void aNewLinkAndARelinkedAgentHearTheStateAtOnce() {
    RolloutBeacon beacon = new RolloutBeacon();
    Link a = new Link("a");
    Link b = new Link("b");
    beacon.due(M, "stage 1", List.of(a), 1_000);
    assertEquals(List.of(b), beacon.due(M, "stage 1", List.of(a, b), 2_000));
    Link aAgain = new Link("a"); // the same agent on a new link
    assertEquals(List.of(aAgain), beacon.due(M, "stage 1", List.of(aAgain, b), 3_000));
    assertEquals(List.of(), beacon.due(M, "stage 1", List.of(aAgain, b), 4_000));
  }

  @Test
  void rolloutsAreTrackedApartAndForgottenWithTheirManifest() {
    RolloutBeacon beacon = new RolloutBeacon();
    Link a = new Link("a");
    beacon.due(M, "stage 1", List.of(a), 1_000);
    assertEquals(List.of(a), beacon.due(N, "stage 1", List.of(a), 1_500));
    beacon.retain(Set.of(N));
    assertEquals(List.of(a), beacon.due(M, "stage 1", List.of(a), 2_000), "M was forgotten: told again");
    assertEquals(List.of(), beacon.due(N, "stage 1", List.of(a), 2_000));
  }

  @Test
  void aClockThatWentBackRepeatsRatherThanFallingSilent() {
    RolloutBeacon beacon = new RolloutBeacon();
    Link a = new Link("a");
    beacon.due(M, "stage 1", List.of(a), 100_000);
    assertEquals(List.of(a), beacon.due(M, "stage 1", List.of(a), 50_000));
  }
}
