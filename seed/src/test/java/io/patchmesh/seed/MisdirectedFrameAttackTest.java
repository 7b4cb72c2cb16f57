package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.InventoryRequest;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rogue with a valid agent certificate sends well-formed frames only another kind of node may
 * send (runtime/FrameRouter): status reports to an agent or naming another node, an inventory
 * update to an agent, a rollout state and an inventory request without the seed role. Each is
 * dropped and is a strike in the receiver's peer scores; the third strike bans the rogue and
 * closes its link, while the honest agent's link to the seed stays.
 */
class MisdirectedFrameAttackTest {
  static final String SITE = "site-a";

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  NodeRuntime honest;
  MaliciousPeer rogue;
  final Set<Long> acked = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void startMesh() {
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    seed = mesh.startSeed("dc");
    honest = mesh.startAgent("honest", SITE);
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
    rogue = new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", SITE, null, MaliciousPeer.Behaviour.QUIET, id -> null);
    rogue.onFrame((l, f) -> {
      if (f.hasAck()) {
        acked.add(f.getAck().getSeq());
      }
      return false;
    });
  }

  @AfterEach
  void tearDown() {
    if (rogue != null) {
      rogue.close();
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void framesOnlyASeedSendsCostARogueItsLinkToAnAgentOnTheThirdStrike() throws Exception {
    PeerLink toAgent = rogue.connect(honest);
    rogue.send(toAgent, Frame.newBuilder().setStatusReport(report(rogue.id().toByteString())).build());
    rogue.send(toAgent, Frame.newBuilder().setInventoryUpdate(InventoryUpdate.newBuilder().setGeneration(1)).build());
    pingAndAwaitAck(toAgent, 1);
    assertEquals(0, honest.metrics().bans(), "two strikes do not ban");
    assertTrue(honest.transport().link(rogue.id()).isPresent(), "two strikes do not close the link");

    // no seed role in its certificate: an abort it sends is no rollout decision, and the third strike
    rogue.send(toAgent, Frame.newBuilder().setRolloutState(RolloutState.newBuilder()
        .setManifestId(ByteString.copyFrom(new byte[32])).setState(RolloutState.State.ABORTED)).build());
    awaitBannedAndCutOff(honest);
    assertTrue(honest.transport().link(seed.node().id()).isPresent(), "the honest agent keeps its seed");
  }

  @Test
  void forgedReportsAndInventoryRequestsCostARogueItsLinkToTheSeed() throws Exception {
    PeerLink toSeed = rogue.connect(seed.node());
    rogue.send(toSeed, Frame.newBuilder().setStatusReport(report(honest.id().toByteString())).build());
    rogue.send(toSeed, Frame.newBuilder().setStatusReport(report(honest.id().toByteString())).build());
    pingAndAwaitAck(toSeed, 2);
    assertEquals(0, seed.node().metrics().bans(), "two strikes do not ban");

    rogue.send(toSeed, Frame.newBuilder().setInventoryRequest(InventoryRequest.newBuilder().setSinceGeneration(0)).build());
    awaitBannedAndCutOff(seed.node());
    assertTrue(seed.node().transport().link(honest.id()).isPresent(), "the honest agent keeps its seed");
  }

  /** Frames of one link are routed in order: once the Ping is answered, the frames before it were judged. */
  private void pingAndAwaitAck(PeerLink link, long seq) {
    rogue.send(link, Frame.newBuilder().setPing(Ping.newBuilder().setSeq(seq).setTarget(link.peerId().toByteString())).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains(seq));
  }

  private void awaitBannedAndCutOff(NodeRuntime node) {
    await().atMost(Duration.ofSeconds(30)).until(() -> node.metrics().bans() >= 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> rogue.hungUpOn.contains(node.id()));
    assertFalse(node.transport().link(rogue.id()).isPresent(), "the rogue's link is closed");
  }

  private static StatusReport report(ByteString nodeId) {
    return StatusReport.newBuilder().setNodeId(nodeId).setSite(SITE).setSequence(Long.MAX_VALUE / 2).build();
  }
}
