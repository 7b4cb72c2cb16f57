package io.patchmesh.tools;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Writes small output files (trust roots) so that a reader sees either nothing
 * or the complete file: temp file in the same directory, fsync, rename.
 */
final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /** Writes {@code bytes} to {@code file}, which must not exist yet. */
  static void writeNew(Path file, byte[] bytes) {
    if (Files.exists(file)) {
      throw new UserInputException(file + ": already exists; refusing to overwrite");
    }
    Path abs = file.toAbsolutePath();
    Path temp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(RANDOM.nextLong()));
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot write (" + e.getMessage() + ")", e);
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // the temp name is hidden and random; a leftover harms nothing
      }
    }
  }
}
