package io.patchmesh.tools;

import io.patchmesh.content.BundleWriter;
import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A bundle directory being written by {@code publish --out}. Everything goes
 * into a hidden sibling {@code .NAME.tmp-RANDOM} first and is renamed to the
 * final name only when the signed manifest is in it, so a publish that fails
 * or is killed never leaves a directory under the bundle's name (and a
 * leftover temp directory has no name {@code verify} would be given).
 */
final class BundleOutput implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private final BundleWriter writer;
  private boolean committed;

  private BundleOutput(Path target, Path temp) {
    this.target = target;
    this.temp = temp;
    this.writer = new BundleWriter(temp);
  }

  /** Refuses an existing non-empty {@code target}; creates its parent if missing. */
  static BundleOutput create(Path target) {
    Path abs = target.toAbsolutePath().normalize();
    if (Files.exists(abs) && !isEmptyDirectory(abs)) {
      throw new UserInputException(target + ": already exists and is not an empty directory; refusing to overwrite");
    }
    Path parent = abs.getParent();
    try {
      Files.createDirectories(parent);
    } catch (IOException e) {
      throw new UserInputException(target + ": cannot create its parent directory (" + e.getMessage() + ")", e);
    }
    Path temp = parent.resolve("." + abs.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(new SecureRandom().nextLong()));
    return new BundleOutput(target, temp);
  }

  BundleWriter writer() {
    return writer;
  }

  /** Writes the signed manifest (durably) and moves the bundle to its final name. */
  void commit(byte[] signedManifest) throws IOException {
    writer.writeSignedManifest(signedManifest);
    Path abs = target.toAbsolutePath().normalize();
    if (Files.exists(abs)) {
      if (!isEmptyDirectory(abs)) {
        throw new UserInputException(target + ": appeared while publishing; refusing to overwrite");
      }
      Files.delete(abs);
    }
    Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE);
    committed = true;
  }

  /** Deletes the temp directory unless committed. */
  @Override
  public void close() {
    if (!committed) {
      deleteTree(temp);
    }
  }

  private static boolean isEmptyDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException ignored) {
      // best effort: a hidden temp directory is what is left, never a bundle
    }
  }
}
