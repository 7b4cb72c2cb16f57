package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An agent that leaves gracefully and starts again from the same data directory — what a
 * {@code site: auto} agent does on every site move or address change — is listed alive again:
 * its new life begins above the incarnation of its LEFT. Before, it began at that same
 * incarnation, so a seed that had heard the LEFT dropped the new ALIVE as old news and listed
 * the agent as left until some refutation (in SiteAutoProcessTest: more than 50 s).
 */
class GracefulRestartTest {
  private Path tmp;
  private LocalMesh mesh;

  @AfterEach
  void stop() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static Optional<Member> entry(NodeRuntime observer, NodeId id) {
    return observer.members().stream().filter(m -> m.info().id().equals(id)).findFirst();
  }

  @Test
  void anAgentThatLeftAndStartsAgainIsListedAliveAtOnce() throws Exception {
    tmp = Files.createTempDirectory("graceful-restart");
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    SeedNode seed = mesh.startSeed("dc");
    NodeRuntime agent = mesh.startAgent("laptop", "office");
    NodeId id = agent.id();
    await().atMost(Duration.ofSeconds(60))
        .until(() -> entry(seed.node(), id).map(m -> m.status() == MemberStatus.ALIVE).orElse(false));
    // and the agent knows the seed (its LEFT is gossiped to the members it knows; closed before the
    // join's answer arrived, it would know nobody to tell, and the seed would find it dead instead)
    await().atMost(Duration.ofSeconds(60))
        .until(() -> entry(agent, seed.node().id()).map(m -> m.status() == MemberStatus.ALIVE).orElse(false));

    mesh.agents().remove(agent);
    agent.close(); // leaves: a LEFT at a new incarnation
    await().atMost(Duration.ofSeconds(60))
        .until(() -> entry(seed.node(), id).map(m -> m.status() == MemberStatus.LEFT).orElse(false));
    long leftAt = entry(seed.node(), id).orElseThrow().incarnation();

    NodeRuntime back = mesh.startAgent("laptop", "office");
    assertEquals(id, back.id());
    long startsAt = back.members().get(0).incarnation(); // self comes first
    assertTrue(startsAt > leftAt, "starts at " + startsAt + ", left at " + leftAt);
    await().atMost(Duration.ofSeconds(60))
        .until(() -> entry(seed.node(), id).map(m -> m.status() == MemberStatus.ALIVE).orElse(false));
  }
}
