package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A version's files as the store's own file segments (BENCHMARKS 13ak), on real files and a real
 * RocksDB store: a received chunk is written once; the files are linked out only after they
 * verify; a linked file changed in place is never served; a restart mid-download hashes again what
 * a crash may have left; held chunks are copied in and keep their entries; compaction leaves a
 * staging's files alone and later removes only the store's name.
 */
class FileStagingTest {
  @TempDir Path tmp;
  private final Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();

  private Manifest manifest(String name, long version, Map<String, byte[]> files) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src-" + name));
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Files.write(src.resolve(f.getKey()), f.getValue());
    }
    ChunkSink sink = (id, buf, off, len) -> chunks.put(id, Arrays.copyOfRange(buf, off, off + len));
    return new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel("app/c").version(version)
        .build(List.of(src), sink, ProgressListener.NONE);
  }

  private Manifest v1() throws IOException {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put("a", TestChunks.random(1, 300_000));
    f.put("b", TestChunks.random(2, 120_000));
    byte[] twice = new byte[100_000];
    System.arraycopy(TestChunks.random(3, 50_000), 0, twice, 0, 50_000);
    System.arraycopy(twice, 0, twice, 50_000, 50_000); // chunks at two offsets
    f.put("c", twice);
    return manifest("v1", 1, f);
  }

  private static ChunkId id(ChunkRef c) {
    return ChunkId.of(c.getId());
  }

  private void putAll(NodeStore store, Manifest m) {
    for (ChunkRef c : m.getChunksList()) {
      store.chunks().put(id(c), chunks.get(id(c)));
    }
  }

  private static long plainSegmentBytes(NodeStore store) {
    return store.chunks().segments().all().stream().filter(s -> !s.file).mapToLong(s -> s.length).sum();
  }

  private static List<Segment> fileSegments(NodeStore store) {
    return store.chunks().segments().all().stream().filter(s -> s.file).toList();
  }

  @Test
  void receivedChunksAreWrittenOnceAndLinkedOutOnlyAfterTheyVerify() throws Exception {
    Manifest m = v1();
    Path apply = tmp.resolve("apply");
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      FileStaging st = store.chunks().stageFiles(m, apply);
      putAll(store, m);
      assertEquals(0, plainSegmentBytes(store), "no chunk of the staged version appended to a segment");
      assertEquals(0, st.missing());
      for (ChunkRef c : m.getChunksList()) {
        assertArrayEquals(chunks.get(id(c)), store.chunks().get(id(c)), "served from the file segment");
      }
      List<FileAssembler.Staged> staged = st.verify();
      st.close();
      assertEquals(3, staged.size());
      for (int i = 0; i < 3; i++) {
        Path temp = staged.get(i).temp();
        assertTrue(temp.startsWith(apply.toRealPath()) && FileAssembler.isTempName(temp.getFileName().toString()), temp.toString());
        assertTrue(Files.isSameFile(temp, st.files().get(i)), "one inode: the applied file is the store's file segment");
      }
      assertArrayEquals(Files.readAllBytes(tmp.resolve("src-v1/c")), Files.readAllBytes(staged.get(2).temp()));
      assertTrue(fileSegments(store).stream().allMatch(s -> s.verifyReads && s.durable == s.length));
      // a chunk not of the staged version goes to a segment as before
      byte[] other = TestChunks.random(99, 20_000);
      store.chunks().put(ChunkId.hash(other), other);
      assertEquals(20_000, plainSegmentBytes(store));
    }
  }

  @Test
  void aLinkedFileChangedInPlaceIsNeverServedBeforeOrAfterARestart() throws Exception {
    Manifest m = v1();
    Path apply = tmp.resolve("apply");
    Path applied;
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      FileStaging st = store.chunks().stageFiles(m, apply);
      putAll(store, m);
      applied = st.verify().get(0).temp();
      st.close();
      overwrite(applied, 10, "edited in place");
      ChunkId first = id(m.getChunks(0));
      assertNull(store.chunks().get(first), "the changed chunk is dropped, not served");
      assertFalse(store.chunks().has(first));
      assertArrayEquals(chunks.get(id(m.getChunks(1))), store.chunks().get(id(m.getChunks(1))), "the others verify");
    }
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      ChunkId second = id(m.getChunks(1));
      int at = m.getChunks(0).getSize() + 5; // inside file a's second chunk
      overwrite(applied, at, "again, after the restart");
      assertNull(store.chunks().get(second), "still verified after a restart: the mark was recorded");
      assertArrayEquals(chunks.get(id(m.getChunks(2))), store.chunks().get(id(m.getChunks(2))));
    }
  }

  @Test
  void aRestartMidDownloadHashesTheFileSegmentAgainAndNeverAppendsToIt() throws Exception {
    Manifest m = v1();
    int half = m.getChunksCount() / 2;
    Path store1 = tmp.resolve("store");
    Path file;
    try (NodeStore store = NodeStore.open(store1, StoreConfig.DEFAULTS)) {
      FileStaging st = store.chunks().stageFiles(m, tmp.resolve("apply"));
      for (int c = 0; c < half; c++) {
        store.chunks().put(id(m.getChunks(c)), chunks.get(id(m.getChunks(c))));
      }
      st.abandon(); // as a crash: nothing synced or recorded
      file = st.files().get(0);
    }
    // what a power loss may leave: the first chunk's bytes never reached the disk
    overwrite(file, 0, "zeroed by a power loss".replaceAll(".", "\0"));
    long lengthBefore = Files.size(file);
    try (NodeStore store = NodeStore.open(store1, StoreConfig.DEFAULTS)) {
      assertFalse(store.chunks().has(id(m.getChunks(0))), "hashed again at open and dropped");
      for (int c = 1; c < half; c++) {
        assertArrayEquals(chunks.get(id(m.getChunks(c))), store.chunks().get(id(m.getChunks(c))), "chunk " + c + " kept");
      }
      for (int c = half; c < m.getChunksCount(); c++) {
        assertFalse(store.chunks().has(id(m.getChunks(c))));
        store.chunks().put(id(m.getChunks(c)), chunks.get(id(m.getChunks(c)))); // no staging now: segments
      }
      assertEquals(lengthBefore, Files.size(file), "a file segment is never appended to");
      assertTrue(plainSegmentBytes(store) > 0);
      for (int c = half; c < m.getChunksCount(); c++) {
        assertArrayEquals(chunks.get(id(m.getChunks(c))), store.chunks().get(id(m.getChunks(c))));
      }
    }
  }

  @Test
  void heldChunksAreCopiedInAndKeepTheirEntries() throws Exception {
    Manifest m = v1();
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      ChunkId held = id(m.getChunks(0));
      store.chunks().put(held, chunks.get(held)); // an older version's chunk, in a segment
      long before = plainSegmentBytes(store);
      FileStaging st = store.chunks().stageFiles(m, tmp.resolve("apply"));
      st.write(0, store.chunks().get(held));
      putAll(store, m); // the held one is a duplicate; the rest go to the file segments
      assertEquals(before, plainSegmentBytes(store));
      assertEquals(0, st.missing());
      assertEquals(1, store.chunks().duplicatePuts());
      List<FileAssembler.Staged> staged = st.verify();
      st.close();
      assertArrayEquals(Files.readAllBytes(tmp.resolve("src-v1/a")), Files.readAllBytes(staged.get(0).temp()));
      assertEquals(m.getChunks(0).getSize(), store.chunks().segments().all().stream().filter(s -> !s.file)
          .mapToLong(s -> s.live.get()).sum(), "the held chunk's entry stays in its segment");
    }
  }

  @Test
  void compactionLeavesAStagingAloneAndLaterRemovesOnlyTheStoresName() throws Exception {
    Manifest m = v1();
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      FileStaging st = store.chunks().stageFiles(m, tmp.resolve("apply"));
      store.chunks().put(id(m.getChunks(0)), chunks.get(id(m.getChunks(0)))); // far below half live
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES);
      assertTrue(Files.exists(st.files().get(0)), "a file segment being written is not compacted");
      assertArrayEquals(chunks.get(id(m.getChunks(0))), store.chunks().get(id(m.getChunks(0))));
      putAll(store, m);
      List<FileAssembler.Staged> staged = st.verify();
      st.close();
      Path applied = staged.get(0).temp();
      for (ChunkRef c : m.getChunksList()) {
        store.chunks().delete(id(c)); // GC: no retained manifest needs them
      }
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES);
      assertTrue(fileSegments(store).stream().allMatch(s -> s.length == 0), "every file segment reclaimed");
      st.files().forEach(p -> assertFalse(Files.exists(p), p + " deleted"));
      assertArrayEquals(Files.readAllBytes(tmp.resolve("src-v1/a")), Files.readAllBytes(applied),
          "the applied file is untouched");
    }
  }

  @Test
  void aDroppedStagingLeavesItsChunksHeldAndCompactionMovesThem() throws Exception {
    Manifest m = v1();
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      FileStaging st = store.chunks().stageFiles(m, tmp.resolve("apply"));
      store.chunks().put(id(m.getChunks(0)), chunks.get(id(m.getChunks(0))));
      st.close(); // superseded, window closed...
      store.chunks().put(id(m.getChunks(1)), chunks.get(id(m.getChunks(1))));
      assertTrue(plainSegmentBytes(store) > 0, "puts go to segments again");
      store.chunks().compactSegments(SegmentCompactor.BUDGET_BYTES);
      for (int c = 0; c < 2; c++) {
        assertArrayEquals(chunks.get(id(m.getChunks(c))), store.chunks().get(id(m.getChunks(c))));
      }
      assertTrue(fileSegments(store).isEmpty(), "the dropped staging's file segment compacted away");
    }
  }

  @Test
  void noLinkAcrossFileSystems() throws Exception {
    Path shm = Path.of("/dev/shm");
    Assumptions.assumeTrue(Files.isWritable(shm), "/dev/shm writable");
    FileStore here = Files.getFileStore(tmp);
    Assumptions.assumeFalse(here.equals(Files.getFileStore(shm)), "/dev/shm another file system");
    Path other = Files.createTempDirectory(shm, "pm-filestaging-");
    try (NodeStore store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS)) {
      assertFalse(store.chunks().canLinkInto(other), "EXDEV");
      assertTrue(store.chunks().canLinkInto(Files.createDirectories(tmp.resolve("apply"))));
      assertTrue(isEmpty(other) && isEmpty(tmp.resolve("apply")), "the probe leaves nothing");
    } finally {
      Files.deleteIfExists(other);
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  private static void overwrite(Path file, long at, String text) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      f.write(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }
  }
}
