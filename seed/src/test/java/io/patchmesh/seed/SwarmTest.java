package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The swarm end to end: real TLS sockets, real stores, per-site emulated WAN links. */
class SwarmTest {
  static final String[] SITES = {"branch-a", "branch-b", "branch-c"};

  @TempDir Path tmp;

  static boolean applied(NodeRuntime n, VerifiedManifest vm) {
    for (ManifestStatus s : n.manifestStatuses()) {
      if (s.getManifestId().equals(vm.id().toByteString())) {
        return s.getPhase() == ManifestPhase.PHASE_APPLIED;
      }
    }
    return false;
  }

  static byte[] sha(Path p) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (var in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return md.digest();
  }

  @Test
  void eachChunkCrossesEachSiteLinkOnce() throws Exception {
    long size = Long.getLong("swarm.test.mb", 64) << 20;
    WanEmulator wan = new WanEmulator();
    for (String s : SITES) {
      wan.siteMbit(s, 200);
    }
    try (LocalMesh mesh = new LocalMesh(tmp.resolve("mesh"), wan, true)) {
      SeedNode seed = mesh.startSeed("dc");
      for (String s : SITES) {
        for (int i = 1; i <= 4; i++) {
          mesh.startAgent(s + "-" + i, s);
        }
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 13);
      Path content = tmp.resolve("patch/lib.bin");
      LocalMesh.randomFile(content, size, 1);
      VerifiedManifest vm = mesh.publish(seed, content, "test/swarm", 1);

      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
          .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));

      byte[] want = sha(content);
      for (NodeRuntime a : mesh.agents()) {
        assertArrayEquals(want, sha(a.config().applyDir().resolve("lib.bin")), a.site());
      }
      for (String s : SITES) {
        double ratio = (double) wan.wanBytesIn(s) / size;
        System.out.printf("site %s: WAN in %.4f x patch size%n", s, ratio);
        assertTrue(ratio <= 1.05, s + " pulled " + ratio + " x the patch across its WAN link");
      }
    }
  }
}
