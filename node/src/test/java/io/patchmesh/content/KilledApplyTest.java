package io.patchmesh.content;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** A real process, killed with SIGKILL while assembling, must leave no partial file. */
class KilledApplyTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "target existed before: {0}")
  @ValueSource(booleans = {false, true})
  void applyKilledMidwayLeavesNoPartialFileAtTheTarget(boolean existedBefore) throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src/opt"));
    byte[] content = TestData.random(77, 4 << 20);
    Files.write(src.resolve("big.bin"), content);
    Path bundle = tmp.resolve("bundle");
    BundleWriter writer = new BundleWriter(bundle);
    Manifest m = new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel("c").version(1)
        .build(List.of(tmp.resolve("src")), writer, ProgressListener.NONE);
    writer.writeSignedManifest(SignedManifest.newBuilder().setManifest(m.toByteString()).build().toByteArray());
    Path manifestFile = Files.write(tmp.resolve("manifest.pb"), m.toByteArray());
    Path target = Files.createDirectories(tmp.resolve("target"));
    Path file = target.resolve("opt/big.bin");
    byte[] old = "old content".getBytes();
    if (existedBefore) {
      Files.createDirectories(file.getParent());
      Files.write(file, old);
    }
    Path marker = tmp.resolve("marker");

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        SlowAssembleMain.class.getName(), manifestFile.toString(), bundle.toString(),
        target.toString(), marker.toString())
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("child.log").toFile())
        .start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(marker) || !child.isAlive());
      assertTrue(child.isAlive(), () -> "child ended early: " + log());
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }

    if (existedBefore) {
      assertArrayEquals(old, Files.readAllBytes(file));
    } else {
      assertFalse(Files.exists(file));
    }
    assertTrue(tempFiles(target).size() == 1, "the killed run was midway: its temp file is there");

    new FileAssembler().assemble(m, BundleReader.open(bundle), target, ProgressListener.NONE);
    assertArrayEquals(content, Files.readAllBytes(file));
    assertTrue(tempFiles(target).isEmpty());
  }

  private String log() {
    try {
      return Files.readString(tmp.resolve("child.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static List<Path> tempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".patchmesh-tmp-")).toList();
    }
  }
}
