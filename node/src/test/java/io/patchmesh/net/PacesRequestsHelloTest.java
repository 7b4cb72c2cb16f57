package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that paces its own WAN requests (wan-yield: ledbat) says so in its Hellos, over real mutual
 * TLS, both as dialler and as acceptor; a seed's upload-yield leaves such a requester alone
 * ({@code SwarmDriver.sampleRtts}).
 */
class PacesRequestsHelloTest {
  @TempDir Path tmp;
  private MeshFixture mesh;

  @AfterEach
  void close() throws Exception {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void eachEndLearnsWhetherThePeerPacesItsRequests() throws Exception {
    mesh = new MeshFixture(tmp);
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
