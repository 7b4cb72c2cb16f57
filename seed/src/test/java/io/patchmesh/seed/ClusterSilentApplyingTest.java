package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Rollout;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.FleetTest.TestClock;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two seeds on a real ZooKeeper ensemble, an agent linked to both, mid-apply (its install waits for
 * a file the test removes). Seed A loses its link to the agent for longer than the gone window (its
 * site's WAN cut, its end of the link closed; A's clock moved past 15 s) while the agent reports
 * applying, then applied, to seed B: B vouches for it, so the rollout does not halt, and the next
 * stage opens on B's word. Control: the agent silent to both seeds (killed while applying) halts
 * the rollout as before.
 */
class ClusterSilentApplyingTest {
  static final String HOLD = "while [ -e \"$PATCHMESH_APPLY_DIR/../hold\" ]; do sleep 0.2; done";
  static final Rollout PLAN = RolloutSilentApplyingTest.PLAN;

  @TempDir Path tmp;
  ZkEnsemble zk;
  WanEmulator wan;
  LocalMesh mesh;
  TestClock clockA;
  TestClock clockB;
  SeedNode a;
  SeedNode b;
  NodeRuntime agent;
  VerifiedManifest vm;

  @BeforeEach
  void setUp() throws Exception {
    zk = new ZkEnsemble(tmp.resolve("zk"));
    wan = new WanEmulator();
    mesh = new LocalMesh(tmp.resolve("mesh"), wan, true);
    clockA = new TestClock(Instant.now());
    clockB = new TestClock(Instant.now());
    a = mesh.startSeed("seed-a", "dc-a", o -> o.withClock(clockA), Optional.of(zk.config()));
    b = mesh.startSeed("seed-b", "dc-b", o -> o.withClock(clockB), Optional.of(zk.config()));
    agent = mesh.startAgent("agent-x", "site-x", c -> c.allowInstallCommands(true), o -> o);
    Files.createDirectories(agent.config().applyDir());
    Files.writeString(agent.config().applyDir().resolve("../hold"), "x");
    await().atMost(Duration.ofSeconds(60)).until(() -> linked(a) && linked(b));
    RolloutSilentApplyingTest.awaitReported(a, agent);
    RolloutSilentApplyingTest.awaitReported(b, agent);
    Path v1 = tmp.resolve("patch/v1.bin");
    LocalMesh.randomFile(v1, 100_000, 11);
    vm = mesh.publish(a, v1, "fleet/flaky", 1, m -> m.installCommand(HOLD).rollout(PLAN));
    await().atMost(Duration.ofSeconds(60)).until(() -> phaseAt(a) == ManifestPhase.PHASE_APPLYING
        && phaseAt(b) == ManifestPhase.PHASE_APPLYING);
    assertEquals("active", a.rollouts().view(vm.id()).orElseThrow().state());
  }

  @AfterEach
  void tearDown() throws Exception {
    wan.restore("dc-a");
    Files.deleteIfExists(agent.config().applyDir().resolve("../hold"));
    mesh.close();
    zk.close();
  }

  private boolean linked(SeedNode s) {
    return s.node().transport().link(agent.id()).isPresent();
  }

  /** The phase of the manifest in the seed's latest report from the agent, or null. */
  private ManifestPhase phaseAt(SeedNode s) {
    for (AgentRecord r : s.board().agents()) {
      if (r.nodeId().equals(agent.id().hex())) {
        ManifestStatus st = vm == null ? null : r.manifests().get(vm.id().hex());
        return st == null ? null : st.getPhase();
      }
    }
    return null;
  }

  private String state(SeedNode s) {
    return s.rollouts().view(vm.id()).orElseThrow().state();
  }

  @Test
  void anAgentThatLosesOneSeedWhileApplyingAndReportsToTheOtherDoesNotHaltTheRollout() throws Exception {
    wan.cut("dc-a"); // seed A's WAN: nothing crosses it, a close neither
    a.node().transport().link(agent.id()).ifPresent(l -> l.close("test: link lost"));
    await().atMost(Duration.ofSeconds(10)).until(() -> !linked(a));
    // A names the agent as soon as it has no link to it; B, which hears from it, vouches
    await().atMost(Duration.ofSeconds(30)).until(() -> a.rollouts().vouched(vm.id()) == 1);
    clockA.millis.addAndGet(StageCount.GONE_AFTER_MILLIS + 5_000);
    ClusterRolloutTest.ticks(3, a, b);
    assertTrue(!linked(a), "the link to A stayed down");
    assertEquals("active", state(a), a.rollouts().view(vm.id()).orElseThrow().reason());
    assertEquals(0, a.rollouts().view(vm.id()).orElseThrow().failed());

    Files.delete(agent.config().applyDir().resolve("../hold")); // the install finishes
    await().atMost(Duration.ofSeconds(60)).until(() -> phaseAt(b) == ManifestPhase.PHASE_APPLIED);
    assertEquals(ManifestPhase.PHASE_APPLYING, phaseAt(a), "A never heard it applied");
    // A counts it as B does (applied): the stage is complete and the next one opens, with A still cut off
    await().atMost(Duration.ofSeconds(30)).until(() -> b.rollouts().view(vm.id()).orElseThrow().stage() == 1);
    RolloutController.View v = b.rollouts().view(vm.id()).orElseThrow();
    assertEquals("active", v.state(), v.toString());
    assertTrue(!linked(a));
    assertEquals(1, a.rollouts().decisions() + b.rollouts().decisions(), "one decision: stage 2 opened, no halt");
  }

  @Test
  void anAgentSilentToBothSeedsWhileApplyingStillHaltsTheRollout() throws Exception {
    String id = agent.id().hex();
    mesh.kill(agent);
    await().atMost(Duration.ofSeconds(30)).until(() -> !linked(a) && !linked(b));
    await().atMost(Duration.ofSeconds(30)).until(() -> a.rollouts().vouched(vm.id()) == 1 && b.rollouts().vouched(vm.id()) == 1);
    clockA.millis.addAndGet(StageCount.GONE_AFTER_MILLIS + 5_000);
    clockB.millis.addAndGet(StageCount.GONE_AFTER_MILLIS + 5_000);
    await().atMost(Duration.ofSeconds(30)).until(() -> state(a).equals("halted") && state(b).equals("halted"));
    RolloutController.View v = a.rollouts().view(vm.id()).orElseThrow();
    assertEquals(0, v.stage(), v.toString());
    assertTrue(v.reason().contains("silent while applying"), v.reason());
    assertEquals(0, a.rollouts().vouched(vm.id()) + b.rollouts().vouched(vm.id()), "nobody vouches for " + id);
  }
}
