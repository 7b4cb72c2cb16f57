package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.trust.TestManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunk bytes in files: crash orderings, damaged files, and what deletes leave on disk. */
class ChunkFilesTest {
  @TempDir Path dir;

  @Test
  void aChunkIsAFileUnderTheStoreAndItsEntryInTheIndex() throws Exception {
    byte[] data = TestChunks.random(1, 100_000);
    ChunkId id = ChunkId.hash(data);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertTrue(store.chunks().put(id, data));
      Path file = store.chunks().files().path(id);
      assertEquals(dir.resolve("chunks").resolve(id.hex().substring(0, 2)).resolve(id.hex()), file);
      assertArrayEquals(data, Files.readAllBytes(file));
      assertArrayEquals(Keys.chunkEntry(data.length), store.db().get(StoreDb.Cf.CHUNK_INDEX, Keys.chunk(id)));
      assertNull(store.db().get(StoreDb.Cf.CHUNKS, Keys.chunk(id)), "no value in the database");
    }
  }

  @Test
  void bytesWrittenButKilledBeforeTheIndexEntryAreAnOrphanDeletedAtOpen() throws Exception {
    byte[] data = TestChunks.random(2, 64 * 1024);
    ChunkId id = ChunkId.hash(data);
    Path file;
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      file = store.chunks().files().path(id);
    }
    // What a put leaves when the process dies between its file and its index entry.
    Files.createDirectories(file.getParent());
    Files.write(file, data);
    Files.write(file.resolveSibling(id.hex() + ".partial"), new byte[10]); // a stray
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertFalse(Files.exists(file), "orphan deleted");
      assertEquals(0, fileCount());
      assertFalse(store.chunks().has(id));
      assertEquals(0, store.chunks().count());
      assertEquals(0, store.chunks().storedBytes());
      assertTrue(store.chunks().put(id, data));
      assertArrayEquals(data, store.chunks().get(id));
    }
  }

  @Test
  void aTruncatedFileIsReportedCorruptAndDroppedNeverServed() throws Exception {
    damagedFileIsDropped(file -> Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 1000)), false);
  }

  @Test
  void aLongerFileIsReportedCorruptAndDropped() throws Exception {
    damagedFileIsDropped(file -> Files.write(file, new byte[7], java.nio.file.StandardOpenOption.APPEND), false);
  }

  @Test
  void aFileGoneWhileTheStoreIsOpenIsReportedCorruptAndDropped() throws Exception {
    damagedFileIsDropped(Files::delete, false);
  }

  @Test
  void aFlippedBitIsCaughtWithVerifyOnRead() throws Exception {
    damagedFileIsDropped(file -> {
      byte[] b = Files.readAllBytes(file);
      b[b.length / 2] ^= 4;
      Files.write(file, b);
    }, true);
  }

  private interface Damage {
    void apply(Path file) throws IOException;
  }

  private void damagedFileIsDropped(Damage damage, boolean verifyOnRead) throws Exception {
    byte[] data = TestChunks.random(3, 64 * 1024);
    byte[] other = TestChunks.random(4, 32 * 1024);
    ChunkId id = ChunkId.hash(data);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS.withVerifyOnRead(verifyOnRead))) {
      store.chunks().put(id, data);
      store.chunks().put(ChunkId.hash(other), other);
      damage.apply(store.chunks().files().path(id));

      assertNull(store.chunks().get(id));

      assertFalse(store.chunks().has(id));
      assertEquals(1, store.chunks().stats().corruptOnRead());
      assertEquals(1, store.chunks().count());
      assertEquals(other.length, store.chunks().storedBytes());
      assertArrayEquals(other, store.chunks().get(ChunkId.hash(other)));
      assertTrue(store.chunks().put(id, data)); // fetched again, stored again
      assertArrayEquals(data, store.chunks().get(id));
    }
  }

  @Test
  void anIndexEntryWhoseFileIsGoneAtOpenIsDroppedSoTheChunkReadsAbsent() throws Exception {
    byte[] data = TestChunks.random(5, 64 * 1024);
    byte[] kept = TestChunks.random(6, 48 * 1024);
    ChunkId id = ChunkId.hash(data);
    Path file;
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.chunks().put(id, data);
      store.chunks().put(ChunkId.hash(kept), kept);
      file = store.chunks().files().path(id);
    }
    Files.delete(file); // e.g. a power loss that undid an unsynced delete of the entry
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertFalse(store.chunks().has(id));
      assertEquals(1, store.chunks().count());
      assertEquals(kept.length, store.chunks().storedBytes());
      assertNull(store.chunks().get(id));
      assertEquals(0, store.chunks().stats().corruptOnRead(), "found at open, not on a read");
    }
  }

  @Test
  void gcDeletesTheFilesOfUnreferencedChunksAndQuotaStaysExactAcrossReopen() throws Exception {
    List<byte[]> loose = TestChunks.many(10, 5, 40 * 1024);
    byte[] wanted = TestChunks.random(20, 50 * 1024);
    byte[] leased = TestChunks.random(21, 30 * 1024);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS.withQuotaBytes(300 * 1024))) {
      for (byte[] c : loose) {
        store.chunks().put(ChunkId.hash(c), c);
      }
      store.leases().grant("upload", Set.of(ChunkId.hash(leased)), java.time.Instant.MAX);
      store.chunks().put(ChunkId.hash(leased), leased);
      store.manifests().accept(TestManifests.ofContents("c", 1, List.of(wanted)));
      store.chunks().put(ChunkId.hash(wanted), wanted);
      assertEquals(7, fileCount());

      GcStats gc = store.gc();

      assertEquals(5, gc.chunksRemoved());
      assertEquals(5 * 40 * 1024, gc.bytesRemoved());
      assertEquals(2, fileCount(), "the wanted and the leased chunk's files are left");
      assertEquals(2, store.chunks().count());
      assertEquals(wanted.length + leased.length, store.chunks().storedBytes());
      // The quota counts exactly what is held: 300 KiB - 80 KiB held leaves room for 220 KiB.
      byte[] big = TestChunks.random(30, 220 * 1024);
      assertTrue(store.chunks().put(ChunkId.hash(big), big));
      assertEquals(wanted.length + leased.length + big.length, store.chunks().storedBytes());
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(3, store.chunks().count());
      assertEquals(wanted.length + leased.length + 220 * 1024, store.chunks().storedBytes());
      assertArrayEquals(wanted, store.chunks().get(ChunkId.hash(wanted)));
    }
  }

  private long fileCount() throws IOException {
    Path root = dir.resolve("chunks");
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).count();
    }
  }
}
