package io.patchmesh.apply;

import static io.patchmesh.apply.ApplyFixtures.EVE;
import static io.patchmesh.apply.ApplyFixtures.tree;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkStaging;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.store.FileStaging;
import io.patchmesh.store.FileStagingLinks;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applying a version staged as the store's file segments (BENCHMARKS 13ak), on real files, a real
 * RocksDB store and real install processes: the applied file is the store's file segment; a failing
 * install rolls back to the previous version, whose chunks the store still serves; a link that fails
 * at the commit falls back to assembly from the store; an apply interrupted after the links were made
 * loses nothing; an apply dir on another file system stages temp files as before.
 */
class FileSegmentApplyTest {
  @TempDir Path tmp;
  private ApplyFixtures fx;
  private NodeStore store;
  private Path dir;
  private final io.patchmesh.content.ChunkSource fromStore = id -> {
    byte[] b = store.chunks().get(id);
    if (b == null) {
      throw new MissingChunkException(id, "missing " + id.shortHex());
    }
    return b;
  };

  @BeforeEach
  void setUp() {
    fx = new ApplyFixtures(tmp);
    store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS);
    dir = tmp.resolve("apply");
  }

  @AfterEach
  void tearDown() {
    FileStagingLinks.reset();
    store.close();
  }

  private PatchApplier applier() {
    return new PatchApplier(dir, true, Duration.ofMinutes(2), store.state(), Clock.systemUTC());
  }

  private static Map<String, byte[]> files(long seed, String... paths) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    for (String p : paths) {
      byte[] b = new byte[150_000];
      new Random(seed + p.hashCode()).nextBytes(b);
      m.put(p, b);
    }
    return m;
  }

  /** Stages {@code vm} as file segments, the chunks put as received (held ones copied in). */
  private ChunkStaging stageAndReceive(PatchApplier p, VerifiedManifest vm) throws IOException {
    ChunkStaging st = p.beginStaging(vm.manifest(), StagingWriter.FORCE_EVERY_BYTES, store.chunks());
    assertInstanceOf(FileStaging.class, st);
    List<ChunkRef> refs = vm.manifest().getChunksList();
    for (int c = 0; c < refs.size(); c++) {
      ChunkId id = ChunkId.of(refs.get(c).getId());
      if (store.chunks().has(id)) {
        st.write(c, store.chunks().get(id)); // dedup from an older version
      } else {
        store.chunks().put(id, fx.chunks.get(id));
      }
    }
    assertEquals(0, st.missing());
    return st;
  }

  @Test
  void theAppliedFileIsTheStoresFileSegmentAndAFailingInstallRollsBackToTheOldOne() throws Exception {
    PatchApplier p = applier();
    Map<String, byte[]> f1 = files(1, "bin/tool", "conf/a");
    VerifiedManifest v1 = fx.publish(EVE, "app/web", 1, f1);
    FileStaging st1 = (FileStaging) stageAndReceive(p, v1);
    PatchApplier.Result r1 = p.apply(v1, fromStore, st1);
    assertTrue(r1.ok(), r1.reason());
    assertEquals(1, p.stagedCommits());
    assertTrue(Files.isSameFile(dir.resolve("bin/tool"), st1.files().get(0)), "one copy on disk");
    assertArrayEquals(f1.get("conf/a"), Files.readAllBytes(dir.resolve("conf/a")));
    Map<String, String> before = tree(dir);

    Map<String, byte[]> f2 = files(1, "bin/tool"); // same bytes: dedup from v1's file segment
    f2.put("conf/a", "v2".getBytes());
    VerifiedManifest v2 = fx.publish(EVE, "app/web", 2, f2, b -> b.installCommand("exit 3"));
    PatchApplier.Result r2 = p.apply(v2, fromStore, stageAndReceive(p, v2));
    assertFalse(r2.ok());
    assertTrue(r2.rolledBack(), r2.reason());
    assertEquals(before, tree(dir), "version 1 back byte for byte");
    for (ChunkRef c : v1.manifest().getChunksList()) {
      assertArrayEquals(fx.chunks.get(ChunkId.of(c.getId())), store.chunks().get(ChunkId.of(c.getId())),
          "v1's chunks still served (verified) from its file segments");
    }
    VerifiedManifest v3 = fx.publish(EVE, "app/web", 3, f2);
    assertTrue(p.apply(v3, fromStore, stageAndReceive(p, v3)).ok());
    assertArrayEquals("v2".getBytes(), Files.readAllBytes(dir.resolve("conf/a")));
    assertNoTempFiles();
  }

  @Test
  void anAppliedFileChangedInPlaceIsNotServedAndTheNextVersionFetchesItsChunkAgain() throws Exception {
    PatchApplier p = applier();
    VerifiedManifest v1 = fx.publish(EVE, "app/web", 1, files(2, "data"));
    assertTrue(p.apply(v1, fromStore, stageAndReceive(p, v1)).ok());
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("data").toFile(), "rw")) {
      f.write("an admin's edit".getBytes()); // in place: the store's inode too
    }
    ChunkId first = ChunkId.of(v1.manifest().getChunks(0).getId());
    assertNull(store.chunks().get(first), "never served unverified");
    assertFalse(store.chunks().has(first), "dropped: fetched again when wanted");
  }

  @Test
  void aLinkThatFailsAtTheCommitFallsBackToAssemblyFromTheStore() throws Exception {
    PatchApplier p = applier();
    Map<String, byte[]> f1 = files(3, "lib/x", "lib/y");
    VerifiedManifest v1 = fx.publish(EVE, "app/web", 1, f1);
    ChunkStaging st = stageAndReceive(p, v1);
    FileStagingLinks.failWith("Invalid cross-device link");
    PatchApplier.Result r = p.apply(v1, fromStore, st);
    assertTrue(r.ok(), r.reason());
    assertEquals(0, p.stagedCommits(), "not committed as staged");
    assertArrayEquals(f1.get("lib/y"), Files.readAllBytes(dir.resolve("lib/y")));
    assertFalse(Files.isSameFile(dir.resolve("lib/x"), ((FileStaging) st).files().get(0)), "assembled: a file of its own");
    assertNoTempFiles();
  }

  @Test
  void anApplyInterruptedAfterTheLinksLosesNothing() throws Exception {
    PatchApplier p = applier();
    Map<String, byte[]> f1 = files(4, "a", "b");
    VerifiedManifest v1 = fx.publish(EVE, "app/web", 1, f1);
    FileStaging st = (FileStaging) stageAndReceive(p, v1);
    List<FileAssembler.Staged> linked = st.verify(); // then the process dies before the switch
    assertTrue(Files.exists(linked.get(0).temp()));
    store.close();
    store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS);
    PatchApplier again = applier();
    again.recover();
    assertNoTempFiles();
    assertTrue(st.files().stream().allMatch(Files::exists), "the store's names survive the recovery");
    for (ChunkRef c : v1.manifest().getChunksList()) {
      assertArrayEquals(fx.chunks.get(ChunkId.of(c.getId())), store.chunks().get(ChunkId.of(c.getId())));
    }
    PatchApplier.Result r = again.apply(v1, fromStore, stageAndReceive(again, v1));
    assertTrue(r.ok(), r.reason());
    assertArrayEquals(f1.get("b"), Files.readAllBytes(dir.resolve("b")));
  }

  @Test
  void anApplyDirOnAnotherFileSystemStagesTempFilesAsBefore() throws Exception {
    Path shm = Path.of("/dev/shm");
    Assumptions.assumeTrue(Files.isWritable(shm));
    Assumptions.assumeFalse(Files.getFileStore(tmp).equals(Files.getFileStore(shm)));
    Path other = Files.createTempDirectory(shm, "pm-fsapply-");
    try {
      PatchApplier p = new PatchApplier(other, true, Duration.ofMinutes(2), store.state(), Clock.systemUTC());
      VerifiedManifest v1 = fx.publish(EVE, "app/web", 1, files(5, "a"));
      ChunkStaging st = p.beginStaging(v1.manifest(), StagingWriter.FORCE_EVERY_BYTES, store.chunks());
      assertInstanceOf(StagingWriter.class, st, "EXDEV: today's temp files");
      for (int c = 0; c < v1.manifest().getChunksCount(); c++) {
        ChunkId id = ChunkId.of(v1.manifest().getChunks(c).getId());
        store.chunks().put(id, fx.chunks.get(id));
        st.write(c, store.chunks().get(id));
      }
      assertTrue(p.apply(v1, fromStore, st).ok());
      assertEquals(1, p.stagedCommits());
    } finally {
      VersionSwitch.deleteTree(other);
    }
  }

  private void assertNoTempFiles() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      assertEquals(List.of(), s.filter(x -> FileAssembler.isTempName(x.getFileName().toString())
          || x.getFileName().toString().startsWith(".patchmesh-link-probe")).toList());
    }
  }
}
