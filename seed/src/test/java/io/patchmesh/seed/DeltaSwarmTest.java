package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A v2 with small edits moves across each site's WAN link as sub-chunk deltas against v1's chunks:
 * about the edited bytes plus the manifest, not the ~1.5 whole chunks per edit that content-defined
 * chunking alone would cost.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeltaSwarmTest {
  static final String[] SITES = {"branch-a", "branch-b"};
  static final int EDITS = 16;

  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  WanEmulator wan;
  Path content;

  @BeforeAll
  void startMesh() throws Exception {
    tmp = Files.createTempDirectory("deltaswarm");
    wan = new WanEmulator();
    for (String s : SITES) {
      wan.siteMbit(s, 200);
    }
    mesh = new LocalMesh(tmp.resolve("mesh"), wan, true);
    seed = mesh.startSeed("dc");
    for (String s : SITES) {
      for (int i = 1; i <= 3; i++) {
        mesh.startAgent(s + "-" + i, s);
      }
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 7);
    content = tmp.resolve("patch/lib.bin");
    LocalMesh.randomFile(content, 16L << 20, 1);
  }

  @AfterAll
  void stopMesh() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** v2 = v1 with {@code EDITS} edits of 1-4 KiB, insertions and overwrites alternating; returns edited bytes. */
  static long edit(Path file, long seed) throws Exception {
    byte[] v1 = Files.readAllBytes(file);
    Random r = new Random(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    long edited = 0;
    for (int i = 0; i < EDITS; i++) {
      int pos = (int) ((long) v1.length * (2L * i + 1) / (2L * EDITS));
      out.write(v1, at, pos - at);
      byte[] b = new byte[1024 + r.nextInt(3 * 1024 + 1)];
      r.nextBytes(b);
      out.writeBytes(b);
      edited += b.length;
      at = i % 2 == 0 ? pos : pos + b.length; // insertion, else overwrite
    }
    out.write(v1, at, v1.length - at);
    Files.write(file, out.toByteArray());
    return edited;
  }

  private Map<String, Long> rollOut(long version) throws Exception {
    Map<String, Long> before = new HashMap<>();
    for (String s : SITES) {
      before.put(s, wan.wanBytesIn(s));
    }
    VerifiedManifest vm = mesh.publish(seed, content, "test/delta", version);
    await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(200))
        .until(() -> mesh.agents().stream().allMatch(a -> SwarmTest.applied(a, vm)));
    byte[] want = SwarmTest.sha(content);
    for (NodeRuntime a : mesh.agents()) {
      assertArrayEquals(want, SwarmTest.sha(a.config().applyDir().resolve("lib.bin")), a.site());
    }
    Map<String, Long> in = new HashMap<>();
    for (String s : SITES) {
      in.put(s, wan.wanBytesIn(s) - before.get(s));
    }
    lastManifestBytes = vm.signed().getSerializedSize();
    return in;
  }

  long lastManifestBytes;

  @Test
  void v2WithSmallEditsCrossesEachWanLinkAsAboutTheEditsPlusTheManifest() throws Exception {
    rollOut(1);
    long edited = edit(content, 2);
    Map<String, Long> in = rollOut(2);
    // Measured ~1.1 x (edits + manifest); 1.5 x leaves room for a re-request under load and
    // still fails loudly without deltas (whole chunks: ~10 x the edited bytes here).
    long bound = (long) ((edited + lastManifestBytes) * 1.5);
    for (String s : SITES) {
      System.out.printf("site %s: v2 WAN in %d B for %d edited bytes + %d B manifest (bound %d)%n",
          s, in.get(s), edited, lastManifestBytes, bound);
      assertTrue(in.get(s) <= bound, s + " pulled " + in.get(s) + " B across its WAN link, bound " + bound);
    }
  }
}
