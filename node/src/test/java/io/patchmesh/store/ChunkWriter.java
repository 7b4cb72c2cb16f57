package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import java.nio.file.Path;

/**
 * Puts chunks {@code TestChunks.random(i, ...)} for i = 0, 1, ... into a store, printing each i
 * once its put returned, until killed: the process a crash test kills mid-put. With "churn" it
 * uses small segments, deletes chunk i - {@link #DELETE_LAG} after put i when {@link #deletes}
 * says so, and compacts segments every few puts, so a kill may land mid-rewrite too.
 */
public final class ChunkWriter {
  static final int DELETE_LAG = 10;
  static final long CHURN_SEGMENT_BYTES = 512 * 1024;

  private ChunkWriter() {}

  static int size(int i) {
    return 16 * 1024 + (i * 7919) % (256 * 1024);
  }

  /** True if put {@code i} is followed by the delete of chunk i - DELETE_LAG (churn mode). */
  static boolean deletes(int i) {
    return i >= DELETE_LAG && i % 3 != 0;
  }

  static StoreConfig config(boolean churn) {
    return churn ? StoreConfig.DEFAULTS.withSegmentBytes(CHURN_SEGMENT_BYTES) : StoreConfig.DEFAULTS;
  }

  public static void main(String[] args) throws Exception {
    boolean churn = args.length > 1 && args[1].equals("churn");
    try (NodeStore store = NodeStore.open(Path.of(args[0]), config(churn))) {
      for (int i = 0; ; i++) {
        byte[] c = TestChunks.random(i, size(i));
        store.chunks().put(ChunkId.hash(c), c);
        if (churn && deletes(i)) {
          byte[] old = TestChunks.random(i - DELETE_LAG, size(i - DELETE_LAG));
          store.chunks().delete(ChunkId.hash(old));
        }
        if (churn && i % 7 == 0) {
          store.chunks().compactSegments(1L << 20);
        }
        System.out.println(i);
        System.out.flush();
      }
    }
  }
}
