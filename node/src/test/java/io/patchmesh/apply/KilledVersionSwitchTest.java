package io.patchmesh.apply;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.BundleReader;
import io.patchmesh.content.BundleWriter;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.Manifest;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.VersionFloor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random points of an apply (a child JVM doing what an agent does: open the store,
 * recover, apply v(n) over v(n-1) with an install hook), 20 times: after every kill, the restart's
 * recovery leaves exactly v(n-1) or exactly v(n) (every file's bytes, the file v(n) dropped, the
 * file it added), ownership naming that version, and no temp file or backup anywhere.
 */
class KilledVersionSwitchTest {
  private static final String CHANNEL = "app/kill";
  private static final int FILES = 8;

  @TempDir Path tmp;
  private final Map<Integer, Map<String, String>> expected = new HashMap<>();

  /** Version n: FILES files whose bytes all depend on n, plus extra/vN (dropped by n+1). */
  private Path bundle(int n) throws IOException {
    Path b = tmp.resolve("bundle-" + n);
    if (Files.exists(b)) {
      return b;
    }
    Path src = Files.createDirectories(tmp.resolve("src-" + n));
    Map<String, String> tree = new TreeMap<>();
    Random r = new Random(n);
    for (int i = 0; i < FILES; i++) {
      StringBuilder s = new StringBuilder("version " + n + " file " + i + "\n");
      while (s.length() < 96_000) {
        s.append(Long.toHexString(r.nextLong()));
      }
      write(src, "data/f" + i, s.toString(), tree);
    }
    write(src, "extra/v" + n, "only in version " + n, tree);
    expected.put(n, tree);
    BundleWriter w = new BundleWriter(b);
    Manifest m = new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel(CHANNEL).version(n)
        .installCommand("sleep 0.1").build(List.of(src), w, ProgressListener.NONE);
    w.writeSignedManifest(ManifestSigner.sign(m, List.of(ApplyFixtures.EVE)).toByteArray());
    return b;
  }

  private static void write(Path src, String path, String content, Map<String, String> tree) throws IOException {
    Path p = src.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, java.nio.charset.StandardCharsets.ISO_8859_1);
    tree.put(path, content);
  }

  @Test
  void twentyKillsDuringApplyLeaveTheOldOrTheNewVersionNeverAMix() throws Exception {
    Path storeDir = tmp.resolve("store");
    Path applyDir = tmp.resolve("apply");
    Path scratch = Files.createDirectories(tmp.resolve("scratch"));
    try (NodeStore store = NodeStore.open(storeDir, StoreConfig.DEFAULTS)) {
      BundleReader b1 = BundleReader.open(bundle(1));
      PatchApplier.Result r = applier(store, applyDir).apply(new ManifestVerifier().verify(b1.readSignedManifest(),
          new ApplyFixtures(scratch).root, VersionFloor.NONE, Instant.now()), b1);
      assertTrue(r.ok(), r.reason());
    }
    Random random = new Random(20261203);
    int current = 1;
    int kills = 0;
    int endedOld = 0;
    int endedNew = 0;
    for (int attempt = 0; kills < 20 && attempt < 80; attempt++) {
      int n = current + 1;
      Path marker = tmp.resolve("marker-" + attempt);
      Process child = spawn(storeDir, applyDir, bundle(n), marker, scratch, tmp.resolve("child-" + attempt + ".log"));
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(marker) || !child.isAlive());
      // let the apply run for a random while (waiting on the child, not sleeping), then kill -9
      boolean exited = child.waitFor(random.nextInt(250), TimeUnit.MILLISECONDS);
      if (!exited) {
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        kills++;
      }
      try (NodeStore store = NodeStore.open(storeDir, StoreConfig.DEFAULTS)) {
        PatchApplier p = applier(store, applyDir);
        p.recover(); // what the restarted agent does first
        Map<String, String> now = ApplyFixtures.tree(applyDir);
        boolean old = now.equals(expected.get(n - 1));
        boolean neu = now.equals(expected.get(n));
        assertTrue(old || neu, "attempt " + attempt + " (killed: " + !exited + "): neither v" + (n - 1) + " nor v" + n
            + ", files " + now.keySet());
        assertEquals(CHANNEL + " version " + (neu ? n : n - 1), p.ownerOf("data/f0"));
        assertFalse(Files.exists(applyDir.resolve(VersionSwitch.BACKUP_DIR)), "no backups left");
        assertEquals(List.of(), strays(applyDir));
        if (!exited) {
          if (neu) {
            endedNew++;
          } else {
            endedOld++;
          }
        }
        current = neu ? n : n - 1;
      }
    }
    assertEquals(20, kills, "the apply ran too quickly to be killed 20 times");
    System.out.printf("20 kills: %d restarts ended at the old version, %d at the new%n", endedOld, endedNew);
  }

  private static PatchApplier applier(NodeStore store, Path applyDir) {
    return new PatchApplier(applyDir, true, Duration.ofMinutes(1), store.state(), Clock.systemUTC());
  }

  private static List<String> strays(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".patchmesh-")).toList();
    }
  }

  private static Process spawn(Path store, Path apply, Path bundle, Path marker, Path scratch, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        ApplyVersionMain.class.getName(), store.toString(), apply.toString(), bundle.toString(), marker.toString(),
        scratch.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
