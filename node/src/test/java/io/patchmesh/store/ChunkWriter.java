package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import java.nio.file.Path;

/**
 * Puts chunks {@code TestChunks.random(i, ...)} for i = 0, 1, ... into a store, printing each i
 * once its put returned, until killed: the process a crash test kills mid-put.
 */
public final class ChunkWriter {
  private ChunkWriter() {}

  static int size(int i) {
    return 16 * 1024 + (i * 7919) % (256 * 1024);
  }

  public static void main(String[] args) throws Exception {
    try (NodeStore store = NodeStore.open(Path.of(args[0]), StoreConfig.DEFAULTS)) {
      for (int i = 0; ; i++) {
        byte[] c = TestChunks.random(i, size(i));
        store.chunks().put(ChunkId.hash(c), c);
        System.out.println(i);
        System.out.flush();
      }
    }
  }
}
