package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What each end of a link learns from the other's Hello, over real mutual TLS. */
class HelloFieldsTest {
  @TempDir Path tmp;

  /**
   * The address a seed sees a dialler coming from, carried in the seed's Hello answer: the agent
   * that dials a seed learns it; one that dials only agents learns nothing (an agent's word is not
   * taken); the acceptor learns nothing from the dialler.
   */
  @Test
  void anAgentLearnsFromASeedAndOnlyFromASeedTheAddressItIsSeenAt() throws Exception {
    try (MeshFixture mesh = new MeshFixture(tmp)) {
      Transport seed = mesh.tls("seed", "dc", null, c -> c.roles(Set.of(Role.ROLE_SEED)));
      Transport other = mesh.tls("other", "home", null);
      Transport laptop = mesh.tls("laptop", "home", null);

      laptop.connect(other.boundAddress()).get(20, TimeUnit.SECONDS);
      assertEquals("", laptop.addressSeenBySeeds(), "an agent's answer is not believed");

      laptop.connect(seed.boundAddress()).get(20, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> !laptop.addressSeenBySeeds().isEmpty());
      assertEquals("127.0.0.1", laptop.addressSeenBySeeds());
      assertEquals("", seed.addressSeenBySeeds(), "the acceptor is told nothing");
      assertEquals("", other.addressSeenBySeeds());
    }
  }

  /**
   * A node that paces its own WAN requests (wan-yield: ledbat) says so in its Hellos, both as
   * dialler and as acceptor; a seed's upload-yield leaves such a requester alone ({@code
   * SwarmDriver.sampleRtts}).
   */
  @Test
  void eachEndLearnsWhetherThePeerPacesItsRequests() throws Exception {
    try (MeshFixture mesh = new MeshFixture(tmp)) {
      Transport seed = mesh.tls("seed", "dc", null);
      Transport paced = mesh.tls("paced", "far", null, c -> c.pacesRequests(true));
      Transport greedy = mesh.tls("greedy", "far", null);

      PeerLink fromPaced = paced.connect(seed.boundAddress()).get(20, TimeUnit.SECONDS);
      greedy.connect(seed.boundAddress()).get(20, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> seed.links().size() == 2);

      assertTrue(seed.link(paced.localId()).orElseThrow().pacesRequests(), "the acceptor hears the dialler's flag");
      assertFalse(seed.link(greedy.localId()).orElseThrow().pacesRequests());
      assertFalse(fromPaced.pacesRequests(), "the seed does not pace requests: its answer says so");
      PeerLink back = greedy.connect(paced.boundAddress()).get(20, TimeUnit.SECONDS);
      assertTrue(back.pacesRequests(), "the dialler hears the acceptor's flag");
    }
  }
}
