package io.patchmesh.store;

import java.nio.file.Path;

/**
 * Opens a store in a separate JVM and holds it until stdin closes: the "other process" of the
 * lock test.
 */
public final class StoreHolder {
  private StoreHolder() {}

  public static void main(String[] args) throws Exception {
    try (NodeStore store = NodeStore.open(Path.of(args[0]), StoreConfig.DEFAULTS)) {
      System.out.println("open");
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold the store until the parent closes our stdin
      }
    }
  }
}
