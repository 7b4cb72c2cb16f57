package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.patchmesh.content.ChunkId;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: a small tmpfs mounted for the test. Needs root (CI and dev sessions run as
 * root); skipped elsewhere.
 */
class DiskFullTest {
  @TempDir Path tmp;
  private Path mnt;
  private boolean mounted;

  @BeforeEach
  void mountSmallTmpfs() throws Exception {
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    mounted = run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt.toString());
    assumeTrue(mounted, "needs root to mount a small tmpfs");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      assertTrue(run("umount", mnt.toString()), "umount " + mnt);
    }
  }

  @Test
  void fullDiskRefusesWithStoreFullAndAcceptsWritesAgainOnceSpaceIsFreed() throws Exception {
    StoreConfig cfg = new StoreConfig(1L << 30, 2, false, false, 4096, 1 << 20, true);
    Path dir = mnt.resolve("store");
    Path filler = mnt.resolve("filler");
    List<byte[]> acknowledged = new ArrayList<>();
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      // Enough before the disk fills to have flushed memtables into blob files.
      for (int i = 0; i < 40; i++) {
        byte[] c = TestChunks.random(i, 64 * 1024);
        store.chunks().put(ChunkId.hash(c), c);
        acknowledged.add(c);
      }
      fill(filler);
      StoreFullException full = null;
      for (int i = 40; i < 400 && full == null; i++) {
        byte[] c = TestChunks.random(i, 64 * 1024);
        try {
          store.chunks().put(ChunkId.hash(c), c);
          acknowledged.add(c);
        } catch (StoreFullException e) {
          full = e;
        }
      }
      assertNotNull(full, "a put should have hit the full disk");
      assertTrue(full.getMessage().contains("disk full"), full.getMessage());

      Files.delete(filler);
      byte[] after = TestChunks.random(10_000, 64 * 1024);
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
          .ignoreException(StoreFullException.class)
          .until(() -> store.chunks().put(ChunkId.hash(after), after) || true);
      acknowledged.add(after);
      for (byte[] c : acknowledged) {
        assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
      }
    }
    try (NodeStore store = NodeStore.open(dir, cfg)) {
      assertEquals(acknowledged.size(), store.chunks().count());
      for (byte[] c : acknowledged) {
        assertArrayEquals(c, store.chunks().get(ChunkId.hash(c)));
      }
    }
  }

  private static void fill(Path filler) {
    byte[] block = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException expected) {
      // No space left on device: the disk is full now.
    }
  }

  private static boolean run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
