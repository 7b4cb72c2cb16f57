package io.patchmesh.store;

import java.nio.file.FileSystemException;
import java.nio.file.Files;

/** Makes {@link FileStaging}'s hard links fail, as across file systems (tests of other packages). */
public final class FileStagingLinks {
  private FileStagingLinks() {}

  /** Every link fails with {@code reason} until {@link #reset}. */
  public static void failWith(String reason) {
    FileStaging.linker = (link, existing) -> {
      throw new FileSystemException(link.toString(), existing.toString(), reason);
    };
  }

  public static void reset() {
    FileStaging.linker = Files::createLink;
  }
}
