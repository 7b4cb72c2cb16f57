package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Failure detection on a node whose own loop is starved (bench scale: a hundred JVMs on two cores,
 * every loop seconds behind), on virtual time: frames are handled {@code inputLag} after they
 * reached the node and timers fire {@code timerLag} late ({@link TestMesh.Node#inputLag}). Before
 * {@link LocalLag}, a verdict taken while the Ack waited in the prober's own queue blamed the
 * target: healthy members were suspected, and with every node starved, declared dead.
 */
class StarvedLoopTest {
  private static final MembershipConfig LAN = MembershipConfig.lan().withDeadReclaimMillis(600_000);

  private static long deaths(TestMesh mesh) {
    return mesh.nodes.stream().mapToLong(n -> n.memberEvents().stream()
        .filter(e -> e.newState() == MemberStatus.DEAD).count()).sum();
  }

  /** Suspicions {@code n} raised (on its own probe or anyone's word) from {@code fromMillis} on. */
  private static long suspicionsBy(TestMesh.Node n, long fromMillis) {
    long count = 0;
    for (int i = 0; i < n.events.size(); i++) {
      if (n.events.get(i) instanceof MemberEvent e && e.newState() == MemberStatus.SUSPECT && n.eventTimes.get(i) >= fromMillis) {
        count++;
      }
    }
    return count;
  }

  /**
   * One starved node among healthy ones: it blames nobody for the Acks it reads late — once it
   * has seen itself late (the first verdict after the onset, before any late frame or timer, cannot
   * know: it may suspect once, and the suspect refutes).
   */
  @Test
  void aStarvedNodeSuspectsNobody() {
    TestMesh mesh = TestMesh.ofRoster(8, LAN, 11);
    mesh.runUntil(5_000);
    TestMesh.Node starved = mesh.node(2);
    starved.inputLag = 1_200; // longer than the whole probe (1 s)
    starved.timerLag = 80;
    long onset = mesh.now;
    mesh.runUntil(120_000);
    assertTrue(suspicionsBy(starved, onset) <= 1, "suspected by the starved node at the onset");
    assertEquals(0, suspicionsBy(starved, onset + 3_000), "suspected by the starved node");
    // it declares nobody dead; the healthy nodes do suspect it (its Acks are late) and it refutes
    for (TestMesh.Node n : mesh.others(starved)) {
      assertEquals(-1, starved.deadAt(n), "declared dead by the starved node");
    }
    assertTrue(starved.membership.localHealth() > 0, "its own lag raised its awareness");
  }

  /** Every node starved alike (each Ack waits in two queues): nobody is declared dead. */
  @Test
  void aStarvedFleetDeclaresNobodyDead() {
    for (long seed = 1; seed <= 4; seed++) {
      TestMesh mesh = TestMesh.ofRoster(10, LAN, seed);
      mesh.runUntil(5_000);
      for (int i = 0; i < mesh.nodes.size(); i++) {
        TestMesh.Node n = mesh.node(i);
        n.inputLag = 700 + 200 * (i % 4); // 0.7–1.3 s
        n.timerLag = 60;
      }
      mesh.runUntil(180_000);
      assertEquals(0, deaths(mesh), "run " + seed);
    }
  }

  /** A node whose clock jumps (paused 2.5 s every 4 s, frames handled when it resumes) declares nobody dead. */
  @Test
  void aNodeWhoseClockJumpsDeclaresNobodyDead() {
    TestMesh mesh = TestMesh.ofRoster(8, MembershipConfig.lanAgent(), 12);
    mesh.runUntil(5_000);
    TestMesh.Node jumpy = mesh.node(5);
    for (int i = 0; i < 30; i++) {
      jumpy.pausedUntil = mesh.now + 2_500;
      mesh.runUntil(mesh.now + 4_000);
    }
    assertEquals(0, deaths(mesh));
  }

  /** The starved fleet still declares a really dead member dead, everywhere, within bounds. */
  @Test
  void aStarvedFleetStillDeclaresADeadMemberDead() {
    int n = 10;
    TestMesh mesh = TestMesh.ofRoster(n, LAN, 3);
    mesh.runUntil(5_000);
    for (TestMesh.Node node : mesh.nodes) {
      node.inputLag = 1_000;
      node.timerLag = 60;
    }
    mesh.runUntil(30_000);
    TestMesh.Node victim = mesh.node(4);
    victim.down = true;
    long killed = mesh.now;
    mesh.runUntil(killed + 120_000);
    long last = TestMesh.lastDeathAfter(mesh.others(victim), victim, killed);
    // Healthy: a probe round of (n − 1) intervals, then the suspicion timer (at most its maximum).
    // Starved: intervals stretched by the awareness the lag asks for (×2 here), the verdict and
    // the timer put off once by the lag, and every hop of gossip 1 s slower.
    long bound = 2L * (n - 1) * 2 * LAN.probeIntervalMillis() + LAN.suspicionMaxMillis(n) + 10_000;
    System.out.println("starved fleet: dead member declared dead everywhere after " + last + " ms (bound " + bound + ")");
    assertTrue(last <= bound, last + " ms");
    assertEquals(n - 1, mesh.others(victim).stream().filter(o -> o.deadAt(victim) > 0).count());
    assertEquals(n - 1, deaths(mesh), "no other death");
  }
}
