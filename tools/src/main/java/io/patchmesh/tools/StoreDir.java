package io.patchmesh.tools;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opening a node store named by {@code --store} for the offline commands. */
final class StoreDir {
  private StoreDir() {}

  /** Opens an existing store; a missing directory is a one-line error (exit 2). */
  static NodeStore openExisting(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserInputException(dir + ": no such store directory");
    }
    return NodeStore.open(dir, StoreConfig.DEFAULTS);
  }

  /** Opens the store, creating it if needed. */
  static NodeStore openOrCreate(Path dir) {
    return NodeStore.open(dir, StoreConfig.DEFAULTS);
  }
}
