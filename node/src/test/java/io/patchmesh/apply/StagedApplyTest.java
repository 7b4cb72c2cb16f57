package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Applying with files staged during the download, and falling back to assembly when staging is off. */
class StagedApplyTest {
  @TempDir Path tmp;
  private final Map<ChunkId, byte[]> store = new ConcurrentHashMap<>();
  private final ChunkSource source = id -> {
    byte[] b = store.get(id);
    if (b == null) {
      throw new MissingChunkException(id, "no chunk " + id.shortHex());
    }
    return b.clone();
  };
  private Manifest m;
  private byte[] a;
  private byte[] b;
  private Path applyDir;
  private io.patchmesh.trust.VerifiedManifest vm;
  private io.patchmesh.store.NodeStore nodeStore;

  @org.junit.jupiter.api.AfterEach
  void closeStore() {
    if (nodeStore != null) {
      nodeStore.close();
    }
  }

  @BeforeEach
  void manifest() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    a = new byte[300_000];
    new Random(1).nextBytes(a);
    b = new byte[120_000];
    new Random(2).nextBytes(b);
    Files.write(src.resolve("a"), a);
    Files.createDirectories(src.resolve("d"));
    Files.write(src.resolve("d/b"), b);
    Files.write(src.resolve("a-copy"), a); // every chunk of a twice
    ChunkSink sink = (id, buf, off, len) -> store.put(id, java.util.Arrays.copyOfRange(buf, off, off + len));
    m = new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel("app/c").version(1)
        .build(List.of(src), sink, ProgressListener.NONE);
    applyDir = tmp.resolve("apply");
    vm = new io.patchmesh.trust.ManifestVerifier().verify(
        io.patchmesh.trust.ManifestSigner.sign(m, List.of(ApplyFixtures.EVE)), new ApplyFixtures(tmp).root,
        io.patchmesh.trust.VersionFloor.NONE, java.time.Instant.now());
  }

  private PatchApplier applier() {
    nodeStore = io.patchmesh.store.NodeStore.open(tmp.resolve("store"), io.patchmesh.store.StoreConfig.DEFAULTS);
    return new PatchApplier(applyDir, false, Duration.ofMinutes(1), nodeStore.state(), java.time.Clock.systemUTC());
  }

  private long tempFiles() throws IOException {
    try (Stream<Path> s = Files.walk(applyDir)) {
      return s.filter(p -> p.getFileName().toString().contains(".patchmesh-tmp-")).count();
    }
  }

  private String prefix() {
    return m.getFiles(0).getPath().contains("/") ? m.getFiles(0).getPath().substring(0, m.getFiles(0).getPath().indexOf('/') + 1) : "";
  }

  private void assertApplied() throws IOException {
    Path root = applyDir.resolve(prefix());
    assertArrayEquals(a, Files.readAllBytes(root.resolve("a")));
    assertArrayEquals(a, Files.readAllBytes(root.resolve("a-copy")));
    assertArrayEquals(b, Files.readAllBytes(root.resolve("d/b")));
    assertEquals(0, tempFiles());
  }

  @Test
  void chunksOfferedInAnyOrderAreCommittedWithoutAssembly() throws Exception {
    PatchApplier p = applier();
    int n = m.getChunksCount();
    int[] held = {n - 1, 0}; // already in the store when the session started
    BackgroundStaging st = BackgroundStaging.start("t", p, m, source, held, 64 << 10);
    for (int c = n - 2; c >= 1; c--) {
      st.offer(c);
    }
    st.offer(0); // repeated
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    assertEquals(0, w.missing());
    PatchApplier.Result r = p.apply(vm, source, w);
    assertTrue(r.ok(), r.reason());
    assertEquals(1, p.stagedCommits());
    assertApplied();
  }

  @Test
  void aChunkMissingFromTheStagingFallsBackToAssemblyFromTheStore() throws Exception {
    PatchApplier p = applier();
    BackgroundStaging st = BackgroundStaging.start("t", p, m, source, new int[0], 64 << 10);
    for (int c = 1; c < m.getChunksCount(); c++) {
      st.offer(c); // chunk 0 never offered
    }
    PatchApplier.Result r = p.apply(vm, source, st.handOver().get(30, TimeUnit.SECONDS));
    assertTrue(r.ok(), r.reason());
    assertEquals(0, p.stagedCommits());
    assertApplied();
  }

  @Test
  void aChunkThatCannotBeReadBreaksTheStagingAndTheApplyStillSucceeds() throws Exception {
    PatchApplier p = applier();
    ChunkSource flaky = id -> {
      if (id.equals(ChunkId.of(m.getChunks(2).getId()))) {
        throw new IOException("read error");
      }
      return source.read(id);
    };
    BackgroundStaging st = BackgroundStaging.start("t", p, m, flaky, new int[0], 64 << 10);
    for (int c = 0; c < m.getChunksCount(); c++) {
      st.offer(c);
    }
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    assertNull(w); // broken: its temp files are gone already
    assertEquals(0, tempFiles());
    PatchApplier.Result r = p.apply(vm, source, w);
    assertTrue(r.ok(), r.reason());
    assertApplied();
  }

  @Test
  void aStagedFileCorruptedOnDiskFallsBackToAssembly() throws Exception {
    PatchApplier p = applier();
    BackgroundStaging st = BackgroundStaging.start("t", p, m, source, new int[0], 64 << 10);
    for (int c = 0; c < m.getChunksCount(); c++) {
      st.offer(c);
    }
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    Path temp = w.tempFiles().get(0);
    byte[] bytes = Files.readAllBytes(temp);
    bytes[bytes.length / 2] ^= 1;
    Files.write(temp, bytes);
    PatchApplier.Result r = p.apply(vm, source, w);
    assertTrue(r.ok(), r.reason());
    assertEquals(0, p.stagedCommits());
    assertApplied();
  }

  @Test
  void discardedStagingLeavesNoTempFileAndNoTarget() throws Exception {
    PatchApplier p = applier();
    BackgroundStaging st = BackgroundStaging.start("t", p, m, source, new int[] {0, 1}, 64 << 10);
    st.close();
    assertEquals(0, tempFiles());
    try (Stream<Path> s = Files.walk(applyDir)) {
      assertEquals(0, s.filter(Files::isRegularFile).count());
    }
  }
}
