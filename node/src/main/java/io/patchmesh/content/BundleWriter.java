package io.patchmesh.content;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * Writes a bundle (see {@link Bundle}): a {@link ChunkSink} that stores each
 * chunk once, then {@link #writeSignedManifest} as the last step.
 *
 * <p>Every file appears atomically (temp file + rename), so a reader never sees a
 * half-written chunk under its final name. Chunks are not fsynced one by one
 * (a bundle is rebuilt, not recovered, after a crash, and every chunk is
 * re-hashed when read); the manifest, written last, is.
 *
 * <p>Writing into an existing bundle directory reuses chunks already there and
 * replaces its manifest. Not thread-safe (a ChunkSink is called sequentially).
 */
public final class BundleWriter implements ChunkSink {
  private final Path dir;
  private final RandomGenerator random = new SecureRandom();
  private long chunksWritten;
  private long bytesWritten;

  /** Creates {@code dir} (and its chunk directory) if missing. */
  public BundleWriter(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir.resolve(Bundle.CHUNKS_DIR));
    } catch (FileAlreadyExistsException e) {
      throw new UserInputException(dir + ": cannot write a bundle here: " + e.getFile() + " exists and is not a directory", e);
    } catch (IOException e) {
      throw new UserInputException(dir + ": cannot create bundle directory: " + e.getMessage(), e);
    }
  }

  public Path dir() {
    return dir;
  }

  @Override
  public void accept(ChunkId id, byte[] buf, int off, int len) throws IOException {
    Path target = Bundle.chunkPath(dir, id);
    if (Files.exists(target)) {
      return; // same name, same bytes (the reader re-hashes anyway)
    }
    Files.createDirectories(target.getParent());
    writeAtomically(target, buf, off, len, false);
    chunksWritten++;
    bytesWritten += len;
  }

  /** Writes (or replaces) BUNDLE/manifest.signed, durably. Call after all chunks. */
  public void writeSignedManifest(byte[] signedManifest) throws IOException {
    if (signedManifest.length > Bundle.MAX_SIGNED_MANIFEST_BYTES) {
      throw new IllegalArgumentException("signed manifest of " + signedManifest.length
          + " bytes exceeds " + Bundle.MAX_SIGNED_MANIFEST_BYTES);
    }
    writeAtomically(Bundle.manifestPath(dir), signedManifest, 0, signedManifest.length, true);
    FileAssembler.fsyncDirectory(dir);
  }

  /** Chunks this writer added (not counting ones already in the directory). */
  public long chunksWritten() {
    return chunksWritten;
  }

  public long bytesWritten() {
    return bytesWritten;
  }

  private void writeAtomically(Path target, byte[] buf, int off, int len, boolean fsync) throws IOException {
    Path temp = target.resolveSibling("." + target.getFileName() + ".tmp-" + HexFormat.of().toHexDigits(random.nextLong()));
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer bb = ByteBuffer.wrap(buf, off, len);
        while (bb.hasRemaining()) {
          ch.write(bb);
        }
        if (fsync) {
          ch.force(true);
        }
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
