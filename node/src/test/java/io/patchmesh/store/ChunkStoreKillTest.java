package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real process killed (SIGKILL) while it puts chunks, several times over the same store: every
 * acknowledged put survives, nothing indexed lacks its bytes, and no bytes are left in a segment
 * that the index does not hold (the open cuts an interrupted put's tail).
 */
class ChunkStoreKillTest {
  @TempDir Path dir;

  @Test
  void killedMidPutLeavesNoIndexEntryWithoutBytesAndNoOrphanAfterReopen() throws Exception {
    int acknowledged = -1;
    for (int round = 0; round < 3; round++) {
      acknowledged = Math.max(acknowledged, killAfter(acknowledged + 15));
      try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
        for (int i = 0; i <= acknowledged; i++) {
          assertTrue(store.chunks().has(ChunkId.hash(chunk(i))), "acknowledged put " + i + " survives the kill");
        }
        long bytes = assertHeldChunksServable(store, acknowledged + 50);
        assertEquals(bytes, segmentBytes(), "no bytes of an interrupted put left after the open");
      }
    }
  }

  /**
   * The same with deletes and segment rewrites going on (small segments, a compaction every few
   * puts): every acknowledged put not deleted survives with its bytes, every acknowledged delete
   * holds, and the open leaves no entry pointing at bytes that are not its chunk's.
   */
  @Test
  void killedMidDeleteOrCompactionLeavesEveryAcknowledgedChunkServable() throws Exception {
    int acknowledged = -1;
    for (int round = 0; round < 4; round++) {
      acknowledged = Math.max(acknowledged, killAfter(acknowledged + 25, true));
      try (NodeStore store = NodeStore.open(dir, ChunkWriter.config(true))) {
        for (int i = 0; i <= acknowledged; i++) {
          int deleter = i + ChunkWriter.DELETE_LAG;
          boolean deleted = deleter <= acknowledged && ChunkWriter.deletes(deleter);
          if (deleter != acknowledged + 1) { // that one's delete may have run
            assertEquals(!deleted, store.chunks().has(ChunkId.hash(chunk(i))), "chunk " + i + (deleted ? " deleted" : " kept"));
          }
        }
        assertHeldChunksServable(store, acknowledged + 50);
      }
    }
  }

  private static byte[] chunk(int i) {
    return TestChunks.random(i, ChunkWriter.size(i));
  }

  /**
   * Every chunk of the first {@code upTo + 1} the store says it holds reads back as its bytes, and
   * the store's count and byte total are exactly those chunks (nothing indexed that is not one of
   * them, nothing corrupt on read). Returns their bytes.
   */
  private static long assertHeldChunksServable(NodeStore store, int upTo) {
    int held = 0;
    long bytes = 0;
    for (int i = 0; i <= upTo; i++) {
      byte[] c = chunk(i);
      ChunkId id = ChunkId.hash(c);
      if (store.chunks().has(id)) {
        assertArrayEquals(c, store.chunks().get(id), "chunk " + i);
        held++;
        bytes += c.length;
      }
    }
    assertEquals(held, store.chunks().count());
    assertEquals(bytes, store.chunks().storedBytes());
    assertEquals(0, store.chunks().stats().corruptOnRead());
    return bytes;
  }

  private int killAfter(int n) throws Exception {
    return killAfter(n, false);
  }

  /** Starts a writer (it resumes where the store is) and kills it once put {@code n} returned. */
  private int killAfter(int n, boolean churn) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        ChunkWriter.class.getName(), dir.toString(), churn ? "churn" : "plain")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    int last = -1;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        last = Integer.parseInt(line.trim());
        if (last >= n) {
          p.toHandle().destroyForcibly(); // SIGKILL, mid-put of the next chunk or so; the pipe stays
          break;
        }
      }
      // The writer may have gone on before the signal landed: what it printed is in the pipe.
      while ((line = out.readLine()) != null) {
        last = Integer.parseInt(line.trim());
      }
    } finally {
      p.destroyForcibly();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    }
    return last;
  }

  private long segmentBytes() throws Exception {
    try (Stream<Path> s = Files.walk(dir.resolve("chunks"))) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
