package io.patchmesh.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On this very JVM: its libjvm and RocksDB's library give their pages back and go on working. */
class LibraryPagesTest {
  @TempDir Path dir;

  private static long residentKb(java.util.function.Predicate<String> libs) throws Exception {
    try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/self/smaps"), StandardCharsets.ISO_8859_1)) {
      return CleanMappings.read(in, libs).stream().mapToLong(CleanMappings.Mapping::residentKb).sum();
    }
  }

  private static byte[] chunk(long seed) {
    byte[] b = new byte[64 * 1024];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void rocksDbAndTheJvmRunOnAfterTheirPagesAreGivenBack() throws Exception {
    Assumptions.assumeTrue(LibraryPages.open().isPresent(), "needs Linux and libc's madvise");
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      byte[] before = chunk(1);
      store.chunks().put(ChunkId.hash(before), before);
      long resident = residentKb(LibraryPages.LIBRARIES);

      long given = LibraryPages.open().orElseThrow().drop();

      assertTrue(given > 0 && resident > 0, "gave back " + given + " of " + resident + " kB");
      assertTrue(residentKb(LibraryPages.LIBRARIES) < resident, "the libraries' pages are not resident any more");
      // the code comes back from the file at its next touch: the store reads, writes and flushes as before
      byte[] after = chunk(2);
      store.chunks().put(ChunkId.hash(after), after);
      assertArrayEquals(before, store.chunks().get(ChunkId.hash(before)));
      assertArrayEquals(after, store.chunks().get(ChunkId.hash(after)));
    }
    System.gc(); // and the JVM's own code, the collector's
    try (NodeStore again = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertArrayEquals(chunk(1), again.chunks().get(ChunkId.hash(chunk(1))));
    }
  }

  @Test
  void neverTakesAWritableOrDirtyMappingOfThisProcess() throws Exception {
    Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs /proc");
    List<CleanMappings.Mapping> all;
    try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/self/smaps"), StandardCharsets.ISO_8859_1)) {
      all = CleanMappings.read(in, path -> true);
    }
    List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
    for (CleanMappings.Mapping m : all) {
      String head = String.format("%08x-%08x ", m.start(), m.end());
      String line = maps.stream().filter(l -> l.startsWith(head)).findFirst().orElse(head + "????");
      assertTrue(line.substring(head.length()).charAt(1) != 'w', line);
    }
  }
}
