package io.patchmesh.store;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Chunk bytes as files: one file per chunk, {@code chunks/<first byte in hex>/<id in hex>}
 * under the store directory (256 fan-out directories, like git's loose objects). A file says
 * nothing by itself: a chunk is held only once its {@code chunk_index} entry is written, and
 * {@link ChunkStore} writes that entry only after {@link #write} returned, i.e. after the bytes
 * reached the OS (and, with {@link StoreConfig#syncChunkWrites()}, the disk). A crash in between leaves an
 * orphan file, which {@link ChunkIndexCheck} deletes when the store is opened. Without the
 * fdatasync (the default) a power loss can also leave an entry whose file is missing or short
 * (the entry reached the disk first): {@link ChunkIndexCheck} drops a missing one at open and a
 * read drops a short one, and the chunk is fetched again. A fdatasync per chunk cost agents
 * 47-76 % more CPU for a rollout (BENCHMARKS 12.18).
 *
 * <p>Why files rather than RocksDB values: every value went through the WAL, a memtable (two
 * while one flushed) and the writer buffers before reaching a blob file, about 15-18 MB of an
 * agent's peak RSS while it received (BENCHMARKS 12.7, 12.16) and CPU for every copy. A file
 * takes one copy into the page cache, frees its space at once when deleted (no blob garbage to
 * compact away), and a damaged file damages one chunk.
 *
 * <p>Reads and writes use plain streams: their native code copies through a transient malloc'd
 * buffer (freed at once), where a FileChannel with a heap buffer would keep a per-thread direct
 * buffer of the largest chunk read. Thread-safe: callers serialize work on one id.
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

  /** Names of the files in fan-out directory {@code prefix} (0-255), sorted; empty if none. */
  List<String> list(int prefix) {
    Path d = root.resolve(HEX.toHexDigits((byte) prefix));
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
      for (Path p : ds) {
        names.add(p.getFileName().toString());
      }
    } catch (NoSuchFileException e) {
      return names;
    } catch (IOException e) {
      throw new StoreException(d + ": cannot list chunk files: " + e, e);
    }
    names.sort(null);
    return names;
  }

  /** Deletes a file found in fan-out directory {@code prefix}: an orphan or a stray. */
  void deleteListed(int prefix, String name) {
    deleteQuietly(root.resolve(HEX.toHexDigits((byte) prefix)).resolve(name));
  }

  /** The id a listed file name stands for, or null if it is not a chunk file's name. */
  static ChunkId idOf(String name) {
    if (name.length() != 2 * ChunkId.LENGTH) {
      return null;
    }
    try {
      ChunkId id = ChunkId.of(HEX.parseHex(name));
      return id.hex().equals(name) ? id : null; // lower case only, as written
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private void ensureDir(int prefix, Path dir) throws IOException {
    if (made[prefix]) {
      return;
    }
    Files.createDirectories(dir);
    made[prefix] = true; // a benign race: createDirectories is idempotent
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // An orphan at worst; the next open's check removes it.
    }
  }

  static boolean isNoSpace(IOException e) {
    String m = e.getMessage();
    return m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"));
  }
}
