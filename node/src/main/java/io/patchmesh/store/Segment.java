package io.patchmesh.store;

import java.io.FileOutputStream;
import java.io.IOException;
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

  final int number;
  final Path path;
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

  Segment(Path root, int number, long length, long durable) {
    this.number = number;
    this.path = root.resolve(name(number));
    this.length = length;
    this.durable = Math.min(durable, length);
  }

  static String name(int number) {
    return PREFIX + number;
  }

  /** The number a file name stands for, or -1 if it is not a segment's name. */
  static int numberOf(String name) {
    if (!name.startsWith(PREFIX) || name.length() > PREFIX.length() + 10 || name.length() == PREFIX.length()) {
      return -1;
    }
    long n = 0;
    for (int i = PREFIX.length(); i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n > Integer.MAX_VALUE || !name.equals(name((int) n)) ? -1 : (int) n;
  }

  long dead() {
    return Math.max(0, length - live.get());
  }

  /** State key of the durable length ({@link StateStore}'s namespace). */
  static String durableKey(int number) {
    return "segments/durable/" + number;
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
}
