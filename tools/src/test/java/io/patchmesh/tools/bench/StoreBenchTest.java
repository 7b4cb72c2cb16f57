package io.patchmesh.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreBenchTest {
  @TempDir Path dir;

  @Test
  void smallRunStoresAndReadsBackEveryChunk() throws Exception {
    StoreBench.Result r = StoreBench.run(dir.resolve("s"), 64 * 1024, 8L << 20, 2);

    assertEquals(128, r.chunks());
    assertEquals(8L << 20, r.bytes());
    assertTrue(r.putMBps() > 0 && r.getOps() > 0);
  }
}
