package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.apply.RolloutGate;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.MemberState;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, item 5: rollout decisions come from facts the seed authenticated itself. A rogue with
 * a valid agent certificate gossips every agent admitted to stage 1 as dead and as left (at the
 * highest incarnation); before, the seed counted them as gone and opened stage 2 while they were
 * still waiting for their window. Now the seed still has its own links to them and their own
 * reports, so stage 1 stays open.
 */
class RolloutGossipAttackTest {
  static final int AGENTS = 6;

  @TempDir Path tmp;

  @Test
  void gossipingAdmittedAgentsDeadDoesNotOpenTheNextStage() throws Exception {
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), null, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (int i = 0; i < AGENTS; i++) {
        mesh.startAgent("agent-" + i, "site-a");
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == AGENTS + 1);
      VerifiedManifest vm = publishWithSomeAdmitted(mesh, seed, 50);
      List<NodeRuntime> admitted = mesh.agents().stream().filter(a -> RolloutGate.admission(a.id(), vm.id()) < 500).toList();
      await().atMost(Duration.ofSeconds(60)).until(() -> admitted.stream().allMatch(a -> FleetTest.phase(a, vm, ManifestPhase.PHASE_WAITING)));
      await().atMost(Duration.ofSeconds(30)).until(() -> seed.rollouts().view(vm.id()).orElseThrow().admitted() == admitted.size());

      try (MaliciousPeer rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "site-a", null, MaliciousPeer.Behaviour.QUIET)) {
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        rogue.transport.addListener(new LinkListener() {
          @Override
          public void onFrame(PeerLink link, Frame frame) {
            if (frame.hasAck()) {
              acked.add(frame.getAck().getSeq());
            }
          }
        });
        PeerLink link = rogue.connect(seed.node());
        long seq = 1;
        for (MemberState lie : List.of(MemberState.MEMBER_DEAD, MemberState.MEMBER_LEFT)) {
          Ping.Builder ping = Ping.newBuilder().setSeq(++seq).setTarget(seed.node().id().toByteString());
          for (NodeRuntime a : admitted) {
            ping.addUpdates(MemberUpdate.newBuilder().setNodeId(a.id().toByteString()).setSite("site-a")
                .setIncarnation(Long.MAX_VALUE).setState(lie).setFrom(rogue.id().toByteString()));
          }
          rogue.send(link, Frame.newBuilder().setPing(ping).build());
          long s = seq;
          // the seed answers a ping only after it has absorbed the gossip it carried
          await().atMost(Duration.ofSeconds(20)).until(() -> acked.contains(s));
          long ticks = seed.rollouts().ticks();
          await().atMost(Duration.ofSeconds(20)).until(() -> seed.rollouts().ticks() >= ticks + 3);
          RolloutController.View v = seed.rollouts().view(vm.id()).orElseThrow();
          assertEquals(0, v.stage(), "stage 1 is still the open one after the rogue said " + lie + ": " + v);
          assertEquals("active", v.state());
          // the rogue is linked and never reports: admitted by its id to the stage, it holds it as pending (StageCensus)
          int rogueCounts = RolloutGate.admission(rogue.id(), vm.id()) < 500 ? 1 : 0;
          assertEquals(admitted.size() + rogueCounts, v.admitted(), "every admitted agent still counts: " + v);
          assertEquals(0, seed.rollouts().decisions());
        }
      }
      for (NodeRuntime a : mesh.agents()) {
        if (!admitted.contains(a)) {
          assertTrue(FleetTest.status(a, vm).map(s -> s.getPhase() != ManifestPhase.PHASE_APPLIED).orElse(true));
        }
      }
    }
  }

  /**
   * Publishes a 2-stage rollout ({@code firstPercent}%, 100%) held at stage 1 by a window that opens
   * in two hours, choosing the manifest (by its version) so that stage 1 admits some agents but not all.
   */
  static VerifiedManifest publishWithSomeAdmitted(LocalMesh mesh, SeedNode seed, int firstPercent) throws Exception {
    int hour = Instant.now().atZone(ZoneOffset.UTC).plusHours(2).getHour();
    return publishWithSomeAdmitted(mesh, seed, firstPercent, String.format("daily %02d:00-%02d:00 UTC", hour, (hour + 1) % 24));
  }

  /** The same with any window ("" = any time). */
  static VerifiedManifest publishWithSomeAdmitted(LocalMesh mesh, SeedNode seed, int firstPercent, String window) throws Exception {
    Path content = mesh.dir().resolve("patch/attack.bin");
    LocalMesh.randomFile(content, 50_000, 11);
    ChunkStore chunks = seed.node().store().chunks();
    for (long version = 1; ; version++) {
      Manifest m = new ManifestBuilder(ChunkParams.DEFAULT).channel("attack/stages").version(version)
          .expires(Instant.now().plus(30, ChronoUnit.DAYS))
          .rollout(Rollout.newBuilder().addStagePercent(firstPercent).addStagePercent(100).setHaltFailurePermille(10).setWindow(window).build())
          .build(List.of(content), (id, buf, off, len) -> chunks.put(id, java.util.Arrays.copyOfRange(buf, off, off + len)),
              ProgressListener.NONE);
      SignedManifest sm = ManifestSigner.sign(m, List.of(mesh.publisher()));
      ManifestId id = ManifestId.ofManifestBytes(sm.getManifest().toByteArray());
      long in = mesh.agents().stream().filter(a -> RolloutGate.admission(a.id(), id) < firstPercent * 10).count();
      if (in == 0 || in == mesh.agents().size()) {
        continue;
      }
      VerifiedManifest vm = seed.node().verifier().verify(sm, seed.node().trustRoot(), seed.node().store().manifests(), Instant.now());
      seed.node().store().manifests().accept(vm);
      seed.node().offerVerified(vm);
      return vm;
    }
  }
}
