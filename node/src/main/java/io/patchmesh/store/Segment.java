package io.patchmesh.store;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One segment file's state: {@code chunks/seg-<number>}, chunk bytes appended one after the
 * other (no header, no framing: the chunk index says where each chunk is). Numbers are never
 * reused, so an index entry that outlived its segment (a power loss that undid an entry's
 * switch) finds no file rather than someone else's bytes.
 */
final class Segment {
  static final String PREFIX = "seg-";
  /** Prefix of a file segment: one file of a staged version, its chunks at their offsets ({@link FileStaging}). */
  static final String FILE_PREFIX = "file-";

  final int number;
  final Path path;
  /**
   * A file segment: written at chunks' offsets in a version's file, never appended to, and
   * possibly hard-linked into the apply dir (see {@link #verifyReads}).
   */
  final boolean file;
  /** A file segment being written by a staging: not compacted meanwhile. */
  volatile boolean staging;
  /**
   * Hard-linked out (or about to be) into the apply dir, where something else may change it in
   * place: every chunk read from it is hashed against its id first. Recorded (synced) before the
   * link is made.
   */
  volatile boolean verifyReads;
  /** Bytes appended: every byte below it reached the OS. */
  volatile long length;
  /** Bytes known to be on disk (fdatasync'ed, recorded in the state column family). */
  volatile long durable;
  /** Bytes of indexed chunks in it; the rest is dead (deleted, moved, or never indexed). */
  final AtomicLong live = new AtomicLong();
  /** Open for appends or until its tail is synced; null otherwise. Guarded by Segments. */
  FileOutputStream out;
  /** No more appends: a newer segment is the active one. */
  volatile boolean sealed;
  /** {@link System#nanoTime} of this process's last write into it; {@link #NEVER} if it wrote none. */
  private volatile long writtenAtNanos = NEVER;
  private static final long NEVER = Long.MIN_VALUE;
  /** The lowest offset this process wrote at ({@link Long#MAX_VALUE}: none); bytes below it are an earlier run's. */
  private volatile long writtenFrom = Long.MAX_VALUE;

  /** Marks a write into it at {@code nowNanos} ({@link System#nanoTime}), at {@code offset} and after. */
  void written(long offset, long nowNanos) {
    if (offset < writtenFrom) {
      writtenFrom = offset; // a racing write may keep a higher value: fewer reads count as recent, never more
    }
    writtenAtNanos = nowNanos;
  }

  /**
   * Whether this process wrote the bytes at {@code offset} and wrote into this segment within
   * {@code windowNanos} before {@code nowNanos}: they are then almost surely still in the page cache,
   * and a read of them does not wait on the disk.
   */
  boolean writtenWithin(long offset, long windowNanos, long nowNanos) {
    long at = writtenAtNanos;
    return at != NEVER && offset >= writtenFrom && nowNanos - at <= windowNanos;
  }

  Segment(Path root, int number, long length, long durable) {
    this(root, number, length, durable, false);
  }

  Segment(Path root, int number, long length, long durable, boolean file) {
    this.number = number;
    this.file = file;
    this.path = root.resolve(file ? FILE_PREFIX + number : name(number));
    this.length = length;
    this.durable = Math.min(durable, length);
  }

  static String name(int number) {
    return PREFIX + number;
  }

  /** The number a file name stands for, or -1 if it is not a segment's name. */
  static int numberOf(String name) {
    return numberOf(name, PREFIX);
  }

  /** The number a file segment's name stands for, or -1 if it is not one. */
  static int fileNumberOf(String name) {
    return numberOf(name, FILE_PREFIX);
  }

  private static int numberOf(String name, String prefix) {
    if (!name.startsWith(prefix) || name.length() > prefix.length() + 10 || name.length() == prefix.length()) {
      return -1;
    }
    long n = 0;
    for (int i = prefix.length(); i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n > Integer.MAX_VALUE || !name.equals(prefix + (int) n) ? -1 : (int) n;
  }

  long dead() {
    return Math.max(0, length - live.get());
  }

  /** State key of the durable length ({@link StateStore}'s namespace). */
  static String durableKey(int number) {
    return "segments/durable/" + number;
  }

  /** State key of a file segment's "linked out, verify every read" mark. */
  static String linkedKey(int number) {
    return "segments/linked/" + number;
  }

  void closeOut() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // Nothing was buffered; the bytes are in the OS already.
      }
      out = null;
    }
  }

  /**
   * A new file segment of {@code size} bytes in {@code root} (sparse until written), sealed and marked
   * staging; on failure nothing is left behind (a file without entries would be deleted at the next open).
   */
  static Segment createFile(Path root, int number, long size) {
    Segment s = new Segment(root, number, size, 0, true);
    s.sealed = true;
    s.staging = true;
    try {
      Files.createDirectories(root);
      try (RandomAccessFile f = new RandomAccessFile(s.path.toFile(), "rw")) {
        f.setLength(size);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(s.path);
      } catch (IOException ignored) {
        // left as a file without entries: the next open deletes it
      }
      if (ChunkFiles.isNoSpace(e)) {
        throw new StoreFullException(root + ": disk full, cannot create a file segment (" + e.getMessage() + ")", e);
      }
      throw new StoreException(s.path + ": cannot create file segment: " + e, e);
    }
    return s;
  }
}
