package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.apply.RolloutGate;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.Severity;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.FleetTest.TestClock;
import io.patchmesh.seed.cluster.ClusterConfig;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two seeds sharing one control plane on a real three-server ZooKeeper ensemble (curator-test),
 * with real agents on a TLS mesh: both answer the same for a rollout at every step, commands
 * through either hold on both, the leader's death and ZooKeeper's loss neither open a stage twice
 * nor open one without a session.
 */
class ClusterRolloutTest {
  static final int AGENTS = 4;

  @TempDir Path tmp;
  ZkEnsemble zk;
  LocalMesh mesh;
  TestClock clock;
  Instant inWindow;
  String window;

  @BeforeEach
  void setUp() throws Exception {
    zk = new ZkEnsemble(tmp.resolve("zk"));
    Instant now = Instant.now();
    int hour = now.atZone(ZoneOffset.UTC).plusHours(2).getHour();
    window = String.format("daily %02d:00-%02d:00 UTC", hour, (hour + 1) % 24);
    inWindow = now.atZone(ZoneOffset.UTC).plusHours(2).withMinute(1).toInstant();
    clock = new TestClock(now);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    if (zk != null) {
      zk.close();
    }
  }

  private SeedNode seed(String name, ClusterConfig cfg) {
    return mesh.startSeed(name, "dc", o -> o.withClock(clock), Optional.of(cfg));
  }

  private void agents() {
    for (int i = 0; i < AGENTS; i++) {
      mesh.startAgent("agent-" + i, i % 2 == 0 ? "site-a" : "site-b", b -> b, o -> o.withClock(clock));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.seeds().stream().allMatch(s -> s.node().members().size() == AGENTS + mesh.seeds().size()));
  }

  /** What must be the same on every seed: state, stage, stages, open share and reason. */
  static String answer(SeedNode s, VerifiedManifest vm) throws Exception {
    Optional<JsonNode> found = FleetTest.getIfKnown(s, "/api/v1/rollouts/" + vm.id().hex());
    if (found.isEmpty()) {
      return "manifest not received yet"; // the manifest reaches a seed by the mesh, not by ZooKeeper
    }
    JsonNode r = found.get();
    return r.path("state").asText() + " " + r.path("stage").asInt() + "/" + r.path("stages").asInt() + " "
        + r.path("openPercent").asInt() + "% " + r.path("reason").asText();
  }

  /** Both seeds give the same answer, and it starts with {@code prefix} (a regular expression). */
  private void bothSay(SeedNode a, SeedNode b, VerifiedManifest vm, String prefix) {
    // a bound against hangs, not a speed claim: at load ~150 ZooKeeper sessions were suspended for
    // 15-17 s (the seeds steer nothing meanwhile) and 20 s was missed
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      String x = answer(a, vm);
      return x.matches(prefix + ".*") && x.equals(answer(b, vm));
    });
  }

  /**
   * Every agent holds the patch and waits for the window (it is judged before the stage), with a
   * seed's rollout state in hand: "waiting for window", not "waiting for a seed's clock to judge the
   * window" (no state heard yet). An agent that verified the patch before any state reached it would
   * otherwise pass here, and a test that then stops the seeds' ZooKeeper (no state sent without it)
   * would wait for nothing.
   */
  private void allWaiting(VerifiedManifest vm) {
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> FleetTest.status(a, vm)
          .map(st -> st.getPhase() == ManifestPhase.PHASE_WAITING && st.getReason().contains("waiting for window")).orElse(false)));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      mesh.agents().forEach(a -> System.out.println("AGENT " + a.id().shortHex() + " " + FleetTest.status(a, vm).map(st -> st.getPhase() + " " + st.getReason())));
      throw e;
    }
  }

  private void allApplied(VerifiedManifest vm) {
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.agents().stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      mesh.agents().forEach(a -> System.out.println("AGENT " + a.id().shortHex() + " " + FleetTest.status(a, vm).map(st -> st.getPhase() + " " + st.getReason())));
      mesh.seeds().forEach(s -> System.out.println("SEED " + s.node().id().shortHex() + " " + s.rollouts().view(vm.id())));
      throw e;
    }
  }

  private static SeedNode leader(List<SeedNode> seeds) {
    Supplier<Optional<SeedNode>> find = () -> seeds.stream().filter(s -> s.cluster().orElseThrow().leads()).findFirst();
    await().atMost(Duration.ofSeconds(20)).until(() -> find.get().isPresent());
    return find.get().orElseThrow();
  }

  private static void ticks(SeedNode s, int n) {
    ticks(n, s);
  }

  /**
   * Waits until each of {@code seeds} has judged its rollouts {@code n} more times. The seeds tick
   * side by side, so waiting for all at once is as long as the slowest (a tick with ZooKeeper down
   * spends seconds in the client's retries), not the sum.
   */
  static void ticks(int n, SeedNode... seeds) {
    long[] from = new long[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      from[i] = seeds[i].rollouts().ticks();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      for (int i = 0; i < seeds.length; i++) {
        if (seeds[i].rollouts().ticks() < from[i] + n) {
          return false;
        }
      }
      return true;
    });
  }

  private static long decisions(List<SeedNode> seeds) {
    return seeds.stream().mapToLong(s -> s.rollouts().decisions()).sum();
  }

  @Test
  void twoSeedsGiveTheSameAnswerAtEveryStepAndCommandsThroughEitherHoldOnBoth() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode one = seed("seed-1", zk.config());
    SeedNode two = seed("seed-2", zk.config());
    agents();
    VerifiedManifest vm = RolloutGossipAttackTest.publishWithSomeAdmitted(mesh, one, 50, window);
    bothSay(one, two, vm, "active 1/2 50% ");
    allWaiting(vm);
    assertEquals("paused", FleetTest.post(two, "/api/v1/rollouts/" + vm.id().hex() + "/pause").path("state").asText());
    bothSay(one, two, vm, "paused 1/2 50% paused by the operator");
    // the window opens while paused: nobody applies, no stage opens
    clock.millis.set(inWindow.toEpochMilli());
    ticks(3, one, two);
    bothSay(one, two, vm, "paused 1/2");
    assertTrue(mesh.agents().stream().noneMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    assertEquals("active", FleetTest.post(one, "/api/v1/rollouts/" + vm.id().hex() + "/resume").path("state").asText());
    allApplied(vm);
    bothSay(one, two, vm, "(active|done) 2/2 100% ");
    await().atMost(Duration.ofSeconds(20)).until(() -> FleetTest.get(two, "/api/v1/rollouts/" + vm.id().hex()).path("state").asText().equals("done"));
    assertEquals(1, decisions(List.of(one, two)), "stage 2 was opened once, by one seed");
    assertEquals("aborted", FleetTest.post(two, "/api/v1/rollouts/" + vm.id().hex() + "/abort").path("state").asText());
    bothSay(one, two, vm, "aborted 2/2");
    JsonNode c = FleetTest.get(two, "/api/v1/cluster");
    assertEquals(2, c.path("seeds").size(), c.toString());
    assertEquals("connected", c.path("session").asText());
    assertEquals(leader(List.of(one, two)).node().id().hex(), c.path("leader").asText());
  }

  @Test
  void aPauseJustBeforeTheLeaderDiesSurvivesAndTheOtherSeedFinishesTheRollout() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode one = seed("seed-1", zk.config());
    SeedNode two = seed("seed-2", zk.config());
    agents();
    VerifiedManifest vm = RolloutGossipAttackTest.publishWithSomeAdmitted(mesh, one, 50, window);
    bothSay(one, two, vm, "active 1/2");
    allWaiting(vm);
    SeedNode lead = leader(List.of(one, two));
    SeedNode other = lead == one ? two : one;
    FleetTest.post(lead, "/api/v1/rollouts/" + vm.id().hex() + "/pause");
    mesh.killSeed(lead);
    await().atMost(Duration.ofSeconds(20)).until(() -> other.cluster().orElseThrow().leads());
    clock.millis.set(inWindow.toEpochMilli());
    ticks(other, 3);
    assertTrue(answer(other, vm).startsWith("paused 1/2"), answer(other, vm));
    FleetTest.post(other, "/api/v1/rollouts/" + vm.id().hex() + "/resume");
    allApplied(vm);
    assertTrue(answer(other, vm).matches("(active|done) 2/2.*"), answer(other, vm));
    assertEquals(1, decisions(List.of(one, two)), "stage 2 opened exactly once across the failover");
  }

  @Test
  void noStageOpensWhileZooKeeperIsDownAndTheRolloutResumesWhenItReturns() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode one = seed("seed-1", zk.config());
    SeedNode two = seed("seed-2", zk.config());
    agents();
    VerifiedManifest vm = RolloutGossipAttackTest.publishWithSomeAdmitted(mesh, one, 50, window);
    bothSay(one, two, vm, "active 1/2");
    allWaiting(vm);
    List<NodeRuntime> admitted = mesh.agents().stream().filter(a -> RolloutGate.admission(a.id(), vm.id()) < 500).toList();
    // Time moves to just before the window while the seeds still have ZooKeeper, and each sends its
    // state stamped at that time; the jump into the window after ZooKeeper is gone is then 60 s. An
    // agent takes the seed's clock from every state it reads (RolloutGate), so a state stamped
    // before a two-hour jump and read after it (a loop late at high load) made it judge windows by a
    // clock two hours behind, and seeds without ZooKeeper send nothing that would correct it.
    Instant opens = inWindow.truncatedTo(ChronoUnit.HOURS);
    clock.millis.set(opens.minusSeconds(30).toEpochMilli());
    ticks(2, one, two);
    zk.killAll();
    await().atMost(Duration.ofSeconds(20)).until(() -> !one.cluster().orElseThrow().connected() && !two.cluster().orElseThrow().connected());
    clock.millis.set(opens.plusSeconds(30).toEpochMilli());
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> admitted.stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      mesh.agents().forEach(a -> System.out.println("AGENT " + a.id().shortHex() + " " + FleetTest.status(a, vm).map(st -> st.getReason())));
      throw e;
    }
    ticks(3, one, two);
    for (SeedNode s : List.of(one, two)) {
      JsonNode r = FleetTest.get(s, "/api/v1/rollouts/" + vm.id().hex());
      assertEquals(1, r.path("stage").asInt(), "no stage opens without ZooKeeper: " + r);
      assertTrue(r.path("reason").asText().contains("no ZooKeeper session"), r.path("reason").asText());
    }
    assertEquals(0, decisions(List.of(one, two)));
    assertTrue(mesh.agents().stream().filter(a -> !admitted.contains(a)).noneMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    zk.restartAll();
    allApplied(vm);
    bothSay(one, two, vm, "(active|done) 2/2");
    assertEquals(1, decisions(List.of(one, two)));
  }

  @Test
  void aSeedCutOffFromZooKeeperButNotFromAgentsSteersNothing() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    var servers = zk.specs;
    SeedNode cut = seed("seed-1", zk.config(servers.get(0)));
    await().atMost(Duration.ofSeconds(20)).until(() -> cut.cluster().orElseThrow().leads());
    SeedNode kept = seed("seed-2", zk.config(servers.get(1), servers.get(2)));
    agents();
    VerifiedManifest vm = RolloutGossipAttackTest.publishWithSomeAdmitted(mesh, cut, 50, window);
    bothSay(cut, kept, vm, "active 1/2");
    allWaiting(vm);
    zk.cluster.killServer(servers.get(0)); // the other two keep a quorum
    await().atMost(Duration.ofSeconds(20)).until(() -> !cut.cluster().orElseThrow().connected());
    await().atMost(Duration.ofSeconds(30)).until(() -> kept.cluster().orElseThrow().leads());
    long cutDecisions = cut.rollouts().decisions();
    clock.millis.set(inWindow.toEpochMilli());
    allApplied(vm);
    assertEquals(cutDecisions, cut.rollouts().decisions(), "the cut-off seed decided nothing");
    assertEquals(1, kept.rollouts().decisions(), "the seed with a session opened stage 2");
    assertTrue(cut.node().transport().links().size() > 0, "the cut-off seed still had agents linked");
    assertTrue(FleetTest.get(cut, "/api/v1/rollouts/" + vm.id().hex()).path("reason").asText().contains("no ZooKeeper session"));
  }

  @Test
  void aWindowOverrideThroughOneSeedHoldsOnTheOtherAndLetsAdmittedAgentsApplyOutsideTheirWindow() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode one = seed("seed-1", zk.config());
    SeedNode two = seed("seed-2", zk.config());
    agents();
    VerifiedManifest vm = RolloutGossipAttackTest.publishWithSomeAdmitted(mesh, one, 50, window);
    String path = "/api/v1/rollouts/" + vm.id().hex();
    bothSay(one, two, vm, "active 1/2 50% ");
    allWaiting(vm);
    FleetTest.post(one, path + "/pause");
    String until = FleetTest.post(two, path + "/override-window?for=2h").path("windowOverrideUntil").asText();
    assertEquals(Instant.ofEpochMilli(clock.millis() + 7_200_000).toString(), until);
    await().atMost(Duration.ofSeconds(20)).until(() -> FleetTest.get(one, path).path("windowOverrideUntil").asText().equals(until));
    bothSay(one, two, vm, "paused 1/2");
    // overridden but paused: nobody applies (the override lifts windows, not the operator's pause)
    ticks(3, one, two);
    assertTrue(mesh.agents().stream().noneMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_APPLIED)));
    FleetTest.post(one, path + "/resume");
    // the clock never reaches the window: the override alone lets each stage's agents apply
    allApplied(vm);
    bothSay(one, two, vm, "(active|done) 2/2 100% ");
    assertEquals(1, decisions(List.of(one, two)), "stage 2 was opened once, by one seed");
    assertEquals(until, FleetTest.get(two, path).path("windowOverrideUntil").asText(), "the pause and resume kept it");
    FleetTest.post(two, path + "/clear-window-override");
    await().atMost(Duration.ofSeconds(20)).until(() -> FleetTest.get(one, path).path("windowOverrideUntil").asText().isEmpty());
  }

  @Test
  void anUrgentStagesClockSurvivesFailoverToASeedThatJoinedLater() throws Exception {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode one = seed("seed-1", zk.config());
    await().atMost(Duration.ofSeconds(20)).until(() -> one.cluster().orElseThrow().leads());
    agents();
    Path content = tmp.resolve("patch/urgent.bin");
    LocalMesh.randomFile(content, 40_000, 21);
    // every agent is admitted to stage 1 and waits for the closed window (urgent: wait is the default),
    // so only the urgent rhythm can open stage 2
    FixNotice notice = FixNotice.newBuilder().addCves("CVE-2024-0001").setSeverity(Severity.SEVERITY_CRITICAL).setUrgent(true).build();
    VerifiedManifest vm = mesh.publish(one, content, "urgent/failover", 1, b -> b.fixes(notice)
        .rollout(Rollout.newBuilder().addStagePercent(100).addStagePercent(100).setWindow(window).build()));
    long opened = clock.millis();
    ticks(one, 2); // the leader has stored the rollout record, stamped with the time its stage opened
    await().atMost(Duration.ofSeconds(60)).until(() -> one.rollouts().view(vm.id()).orElseThrow().admitted() == AGENTS);
    clock.millis.set(opened + 40_000);
    ticks(one, 2);
    assertEquals(0, one.rollouts().view(vm.id()).orElseThrow().stage(), "40 s: the urgent stage is still open");
    // a seed that first sees the stage 40 s after it opened takes over
    SeedNode two = seed("seed-2", zk.config());
    ticks(two, 2);
    mesh.killSeed(one);
    await().atMost(Duration.ofSeconds(20)).until(() -> two.cluster().orElseThrow().leads());
    await().atMost(Duration.ofSeconds(60)).until(() -> two.rollouts().view(vm.id()).orElseThrow().admitted() == AGENTS);
    ticks(two, 2);
    assertEquals(0, two.rollouts().view(vm.id()).orElseThrow().stage(), "the new leader opened nothing early");
    clock.millis.set(opened + 61_000); // 61 s after the stage opened, 21 s after the new leader first saw it
    await().atMost(Duration.ofSeconds(20)).until(() -> two.rollouts().view(vm.id()).orElseThrow().stage() == 1);
    assertEquals(1, two.rollouts().decisions());
    assertEquals(0, one.rollouts().decisions());
  }
}
