package io.patchmesh.store;

import io.patchmesh.errors.UserInputException;
import java.nio.file.Path;

/** The store directory is held by another open store (another process, or this one). */
public final class StoreLockedException extends UserInputException {
  private final Path dir;

  public StoreLockedException(Path dir) {
    super(dir + ": store is in use by another patchmesh process");
    this.dir = dir;
  }

  public Path dir() {
    return dir;
  }
}
