package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A probe's clock starts when its Ping leaves over a link ({@link MembershipBuilder#probeLinkWait}), on
 * virtual time with links modelled ({@link TestMesh#withLinks}: a frame to a member with no link dials it).
 * A new member on a starved machine takes seconds to answer its first TLS handshakes, and every member
 * that had just heard of it dialled it for its first probe at once: the probes timed out before any link
 * was up, so they all suspected it, and it was declared dead while it was starting (BENCHMARKS 12.29).
 * A dead member's dials fail, and a failed dial starts the probe at once: it is still found.
 */
class ProbeLinkWaitTest {
  private static final MembershipConfig AGENT = MembershipConfig.lanAgent().withDeadReclaimMillis(600_000);
  private static final int MEMBERS = 40;
  private static final long WAIT = 10_000;

  /** What the newcomer's join did to the others' view of it: deaths (lines) and suspicions. */
  private record Join(long deaths, long suspicions, long dials) {}

  /**
   * {@link #MEMBERS} members in 5 sites, linked for a while; then one starts on a starved machine: it
   * reaches its seed (member 0), and every dial to it takes {@code dialMillis} (its handshakes) for the
   * first minute, its own loop 1–2 s behind.
   */
  private static Join join(long seed, long linkWait, long dialMillis) {
    List<MemberInfo> infos = TestMesh.infos(MEMBERS + 1, 5, seed);
    TestMesh mesh = new TestMesh();
    mesh.links = new java.util.HashSet<>();
    SplittableRandom random = new SplittableRandom(seed);
    Roster old = Roster.of(infos.subList(0, MEMBERS));
    for (MemberInfo info : infos.subList(0, MEMBERS)) {
      mesh.add(info, mesh.linkedBuilder(info, AGENT, random.split(), linkWait).roster(old));
    }
    mesh.linkAll(new ArrayList<>(mesh.nodes));
    mesh.runUntil(20_000);
    long starts = mesh.now;
    TestMesh.Node newcomer = mesh.add(infos.get(MEMBERS),
        mesh.linkedBuilder(infos.get(MEMBERS), AGENT, random.split(), linkWait).roster(Roster.of(List.of(infos.get(0)))));
    newcomer.inputLag = 1_500;
    newcomer.timerLag = 1_000;
    SplittableRandom jitter = new SplittableRandom(seed * 31);
    mesh.dialMillis = (a, b) -> (a == newcomer || b == newcomer) && mesh.now < starts + 60_000
        ? dialMillis + jitter.nextLong(2_000) : 5;
    mesh.links.add(List.of(infos.get(0).id(), newcomer.id()).stream().sorted(
        java.util.Comparator.comparing(Object::toString)).toList());
    mesh.linkUp(newcomer, mesh.node(0));
    mesh.runUntil(starts + 60_000);
    newcomer.inputLag = 0;
    newcomer.timerLag = 0;
    mesh.runUntil(starts + 180_000);
    long deaths = 0;
    long suspicions = 0;
    for (TestMesh.Node n : mesh.others(newcomer)) {
      for (MemberEvent e : n.memberEvents()) {
        if (e.member().info().id().equals(newcomer.id())) {
          deaths += e.newState() == MemberStatus.DEAD ? 1 : 0;
          suspicions += e.newState() == MemberStatus.SUSPECT ? 1 : 0;
        }
      }
    }
    // in the end everyone holds it alive
    for (TestMesh.Node n : mesh.others(newcomer)) {
      Member view = n.viewOf(newcomer);
      assertTrue(view != null && view.status() == MemberStatus.ALIVE, "alive at the end (seed " + seed + ")");
    }
    return new Join(deaths, suspicions, mesh.dials);
  }

  @Test
  void aNewcomerWhoseHandshakesAreSlowIsNotDeclaredDead() {
    long before = 0;
    long beforeSuspicions = 0;
    long afterSuspicions = 0;
    long dialsBefore = 0;
    long dialsAfter = 0;
    for (long seed = 1; seed <= 3; seed++) {
      Join old = join(seed, 0, 6_000);
      Join now = join(seed, WAIT, 6_000);
      System.out.printf("seed %d: clock at the probe's start: %d dead, %d suspect, %d dials; at the link: %d dead,"
          + " %d suspect, %d dials%n", seed, old.deaths, old.suspicions, old.dials, now.deaths, now.suspicions, now.dials);
      dialsBefore += old.dials;
      dialsAfter += now.dials;
      before += old.deaths;
      beforeSuspicions += old.suspicions;
      afterSuspicions += now.suspicions;
      assertEquals(0, now.deaths, "declared dead while starting (seed " + seed + ")");
    }
    assertTrue(before > 0 || beforeSuspicions > afterSuspicions, "the model no longer shows the old trouble");
    // no suspicion to refute, and PingReqs to linked helpers: fewer dials (two TLS handshakes each)
    assertTrue(dialsAfter < dialsBefore, "dials " + dialsAfter + " vs " + dialsBefore);
  }

  /** How long after the kill the last member declared it dead, every dial to it failing after {@code failMillis}. */
  private static long detection(long seed, long linkWait, long failMillis) {
    TestMesh mesh = TestMesh.withLinks(MEMBERS, 5, AGENT, seed, linkWait);
    mesh.linkAll(mesh.nodes.subList(0, MEMBERS / 2)); // half the members hold links to the victim, half not
    mesh.dialFailMillis = failMillis;
    mesh.runUntil(30_000);
    TestMesh.Node victim = mesh.node(7);
    long killed = mesh.now;
    mesh.kill(victim);
    mesh.runUntil(killed + 120_000);
    return TestMesh.lastDeathAfter(mesh.others(victim), victim, killed);
  }

  @Test
  void aDeadMemberIsStillFoundWhetherItsDialsAreRefusedOrUnanswered() {
    for (long seed = 1; seed <= 3; seed++) {
      long refusedOld = detection(seed, 0, 1);
      long refusedNow = detection(seed, WAIT, 1);
      long vanishedOld = detection(seed, 0, 4_000);
      long vanishedNow = detection(seed, WAIT, 4_000);
      System.out.printf("seed %d: dead at all after (ms): refused %d -> %d, unanswered 4 s %d -> %d%n",
          seed, refusedOld, refusedNow, vanishedOld, vanishedNow);
      assertTrue(refusedNow <= refusedOld + 2_000, "refused: " + refusedNow + " vs " + refusedOld);
      assertTrue(vanishedNow <= vanishedOld + 8_000, "unanswered: " + vanishedNow + " vs " + vanishedOld);
      assertTrue(vanishedNow < 30_000, "unanswered: " + vanishedNow);
    }
  }

  /** The core never waits for a link it is not told about: without probeLinkWait every figure is as before. */
  @Test
  void withoutTheWaitAProbeOfAnUnlinkedMemberStartsItsClockAtOnce() {
    TestMesh mesh = TestMesh.withLinks(10, 1, AGENT, 5, 0);
    mesh.dialMillis = (a, b) -> 60_000; // no link ever comes up in time
    mesh.runUntil(30_000);
    long suspicions = mesh.nodes.stream().mapToLong(n -> n.memberEvents().stream()
        .filter(e -> e.newState() == MemberStatus.SUSPECT).count()).sum();
    assertTrue(suspicions > 0, "probes over links that never come time out");
  }
}
