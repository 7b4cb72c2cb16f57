package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.PieceTally;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The swarm end to end: real TLS sockets, real stores, per-site emulated WAN links. One mesh for
 * both tests (v1, then a v2 that changes 2% of it) to keep the suite fast.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwarmTest {
  static final String[] SITES = {"branch-a", "branch-b", "branch-c"};

  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  WanEmulator wan;
  long size;
  Path content;

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

  @BeforeAll
  void startMesh() throws Exception {
    tmp = Files.createTempDirectory("swarmtest");
    size = Long.getLong("swarm.test.mb", 64) << 20;
    wan = new WanEmulator();
    for (String s : SITES) {
      wan.siteMbit(s, 200);
    }
    mesh = new LocalMesh(tmp.resolve("mesh"), wan, true);
    seed = mesh.startSeed("dc");
    for (String s : SITES) {
      for (int i = 1; i <= 4; i++) {
        mesh.startAgent(s + "-" + i, s);
      }
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 13);
    content = tmp.resolve("patch/lib.bin");
    LocalMesh.randomFile(content, size, 1);
  }

  @AfterAll
  void stopMesh() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Publishes and waits until every agent applied it; returns WAN bytes into each site meanwhile. */
  private Map<String, Long> rollOut(long version) throws Exception {
    Map<String, Long> before = new HashMap<>();
    for (String s : SITES) {
      before.put(s, wan.wanBytesIn(s));
    }
    long t0 = System.nanoTime();
    VerifiedManifest vm = mesh.publish(seed, content, "test/swarm", version);
    await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> applied(a, vm)));
    System.out.printf("v%d rolled out in %d ms%n", version, (System.nanoTime() - t0) / 1_000_000);
    byte[] want = sha(content);
    for (NodeRuntime a : mesh.agents()) {
      assertArrayEquals(want, sha(a.config().applyDir().resolve("lib.bin")), a.site());
    }
    Map<String, Long> in = new HashMap<>();
    for (String s : SITES) {
      in.put(s, wan.wanBytesIn(s) - before.get(s));
      long pieces = 0;
      long dups = 0;
      for (NodeRuntime a : mesh.agents()) {
        if (a.site().equals(s)) {
          PieceTally t = a.pieceTally();
          pieces += t.wanBytes();
          dups += t.wanDuplicateBytes();
        }
      }
      // Cumulative over the mesh's life: explains where a site's WAN bytes went.
      System.out.printf("site %s: WAN in %d B; piece bytes over WAN so far %d (duplicates %d); total WAN in %d%n",
          s, in.get(s), pieces, dups, wan.wanBytesIn(s));
    }
    return in;
  }

  @Test
  @Order(1)
  void eachChunkCrossesEachSiteLinkOnce() throws Exception {
    Map<String, Long> in = rollOut(1);
    for (String s : SITES) {
      double ratio = (double) in.get(s) / size;
      System.out.printf("site %s: WAN in %.4f x patch size%n", s, ratio);
      assertTrue(ratio <= 1.05, s + " pulled " + ratio + " x the patch across its WAN link");
    }
  }

  @Test
  @Order(2)
  void v2ThatChanges2PercentMovesAbout2PercentAcrossEachWanLink() throws Exception {
    // 2% of the bytes, in 8 separate runs: content-defined chunking re-sends only the chunks they touch.
    LocalMesh.overwriteRuns(content, 8, size / 50, 2);
    Map<String, Long> in = rollOut(2);
    for (String s : SITES) {
      double ratio = (double) in.get(s) / size;
      System.out.printf("site %s: v2 WAN in %.4f x patch size%n", s, ratio);
      assertTrue(ratio >= 0.02, s + " moved only " + ratio + ": the changed bytes must cross");
      assertTrue(ratio <= 0.04, s + " moved " + ratio + " x the patch for a 2% change");
    }
  }
}
