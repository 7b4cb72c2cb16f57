package io.patchmesh.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Session 14's layout, read for its migration into segments ({@link ChunkMigration}): one file
 * per chunk, {@code chunks/<first byte in hex>/<id in hex>} (256 fan-out directories, like git's
 * loose objects), its {@code chunk_index} entry the size and {@code 'F'}. Left behind because a
 * file is an inode, and on ext4 without a journal each new inode cost the allocator kernel time
 * (BENCHMARKS 12.21). {@link #write} stays for tests that build a store of that layout.
 *
 * <p>Reads use plain streams: their native code copies through a transient malloc'd buffer.
 */
final class ChunkFiles {
  static final String DIR_NAME = "chunks";
  private static final HexFormat HEX = HexFormat.of();

  private final Path root;
  private final boolean[] made = new boolean[256]; // fan-out directories known to exist

  ChunkFiles(Path storeDir) {
    this.root = storeDir.resolve(DIR_NAME);
  }

  Path root() {
    return root;
  }

  Path path(ChunkId id) {
    byte[] b = id.toBytes();
    return root.resolve(HEX.toHexDigits(b[0])).resolve(id.hex());
  }

  /**
   * Writes the chunk's file (replacing any orphan of the same id), fdatasync'ed if {@code sync}.
   *
   * @throws StoreFullException if the file system has no room; no file is left behind
   * @throws StoreException on any other I/O error; no file is left behind
   */
  void write(ChunkId id, ByteString data, boolean sync) {
    Path p = path(id);
    try {
      ensureDir(id.toBytes()[0] & 0xff, p.getParent());
      try (FileOutputStream out = new FileOutputStream(p.toFile())) {
        // The ByteString's own array to the stream, not a copy of it (ByteString.writeTo copies).
        UnsafeByteOperations.unsafeWriteTo(data, new StreamOutput(out));
        if (sync) {
          out.getChannel().force(false); // fdatasync: the bytes on disk before the index entry
        }
      }
    } catch (IOException e) {
      deleteQuietly(p);
      if (isNoSpace(e)) {
        throw new StoreFullException(root + ": disk full, chunk write refused (" + e.getMessage()
            + "); free disk space or lower the store quota", e);
      }
      throw new StoreException(root + ": chunk write failed: " + e, e);
    }
  }

  /** {@link #write(ChunkId, ByteString, boolean)} of an array (wrapped, not copied). */
  void write(ChunkId id, byte[] data, boolean sync) {
    write(id, UnsafeByteOperations.unsafeWrap(data), sync);
  }

  /**
   * The chunk's bytes if its file holds exactly {@code size} of them; null if the file is
   * missing, shorter or longer (damaged: the caller decides). Reads straight into the returned
   * array.
   */
  byte[] read(ChunkId id, int size) {
    byte[] data = new byte[size];
    try (FileInputStream in = new FileInputStream(path(id).toFile())) {
      if (in.readNBytes(data, 0, size) != size || in.read() != -1) {
        return null;
      }
      return data;
    } catch (java.io.FileNotFoundException | NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new StoreException(root + ": chunk read failed: " + e, e);
    }
  }

  /** Deletes the chunk's file if there is one. */
  void delete(ChunkId id) {
    deleteQuietly(path(id));
  }

  private void ensureDir(int prefix, Path dir) throws IOException {
    if (made[prefix]) {
      return;
    }
    java.nio.file.Files.createDirectories(dir);
    made[prefix] = true; // a benign race: createDirectories is idempotent
  }

  private static void deleteQuietly(Path p) {
    try {
      java.nio.file.Files.deleteIfExists(p);
    } catch (IOException e) {
      // An orphan at worst; the next open's check removes it.
    }
  }

  static boolean isNoSpace(IOException e) {
    String m = e.getMessage();
    return m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"));
  }
}
