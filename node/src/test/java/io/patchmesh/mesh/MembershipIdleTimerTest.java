package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An idle member's timer comes due only for work (probes, push-pulls, suspicions, news to gossip),
 * not every gossip interval: the node's loop sleeps until {@link Membership#nextTimerMillis}, so
 * every empty gossip round was a wake-up of every idle agent (5 a second on LAN timers).
 */
class MembershipIdleTimerTest {
  private static final MembershipConfig LAN = MembershipConfig.lan();

  /** How often node 0's timer comes due over {@code millis} of a settled mesh. */
  private static int wakeUps(TestMesh mesh, long millis) {
    TestMesh.Node n = mesh.node(0);
    long end = mesh.now + millis;
    int wakes = 0;
    while (true) {
      long due = n.membership.nextTimerMillis();
      if (due > end) {
        mesh.runUntil(end);
        return wakes;
      }
      if (due - 1 > mesh.now) {
        mesh.runUntil(due - 1); // what arrives before may move it (an Ack ends the probe it waited for)
        if (n.membership.nextTimerMillis() != due) {
          continue; // a driver re-reads the timer after every input: this wake-up never happens
        }
      }
      mesh.runUntil(due); // fires node 0's timer (and everything else due by then)
      wakes++;
    }
  }

  @Test
  void aSettledIdleMemberIsWokenForProbesNotForEmptyGossipRounds() {
    TestMesh mesh = TestMesh.ofRoster(8, LAN, 31);
    mesh.runUntil(60_000); // the start-up news has been retransmitted enough and is gone
    long window = 30_000;
    int wakes = wakeUps(mesh, window);
    long probes = window / LAN.probeIntervalMillis();
    assertTrue(wakes >= probes - 1, "still probes once per interval: " + wakes + " wake-ups");
    assertTrue(wakes <= probes + window / LAN.pushPullIntervalMillis() + 2,
        wakes + " wake-ups in " + window + " ms: an empty gossip round (every " + LAN.gossipIntervalMillis()
            + " ms) must not wake the node");
    for (TestMesh.Node n : mesh.nodes) {
      assertTrue(n.membership.members().stream().allMatch(m -> m.status() == MemberStatus.ALIVE));
    }
  }

  @Test
  void newsFromAFrameMakesTheGossipTimerDueAgainAndSpreads() {
    TestMesh mesh = TestMesh.ofRoster(10, LAN, 32);
    mesh.runUntil(60_000);
    TestMesh.Node leaver = mesh.node(3);
    leaver.membership.leave(mesh.now);
    mesh.drain(leaver);
    mesh.runUntil(mesh.now + 2 * TestMesh.LATENCY); // the first pushes arrive; no timer has run since
    List<TestMesh.Node> told = mesh.others(leaver).stream()
        .filter(n -> n.viewOf(leaver).status() == MemberStatus.LEFT).toList();
    assertFalse(told.isEmpty(), "the leaver pushed its LEFT to someone");
    for (TestMesh.Node n : told) {
      assertTrue(n.membership.nextTimerMillis() <= mesh.now + LAN.gossipIntervalMillis(),
          "a member holding fresh news gossips it within one gossip interval");
    }
    leaver.down = true;
    mesh.runUntil(mesh.now + 3_000);
    for (TestMesh.Node n : mesh.others(leaver)) {
      assertEquals(MemberStatus.LEFT, n.viewOf(leaver).status(), "every member heard of the leave");
    }
  }
}
