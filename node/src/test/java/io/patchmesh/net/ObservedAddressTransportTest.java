package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.proto.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The address a seed sees a dialler coming from, carried in the seed's Hello answer over real
 * mutual TLS: the agent that dials a seed learns it; one that dials only agents learns nothing
 * (an agent's word is not taken); the acceptor learns nothing from the dialler.
 */
class ObservedAddressTransportTest {
  @TempDir Path tmp;
  private MeshFixture mesh;

  @AfterEach
  void close() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void anAgentLearnsFromASeedAndOnlyFromASeedTheAddressItIsSeenAt() throws Exception {
    mesh = new MeshFixture(tmp);
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
