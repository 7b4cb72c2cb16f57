package io.patchmesh.store;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Read handles of the segments read lately, kept open: a chunk read to serve is a seek and a read
 * of an open file, where opening the segment for every read was an {@code openat}, an {@code fstat},
 * a seek, a read and a {@code close} (BENCHMARKS 13ba). At most {@link #MAX_OPEN} stay open, the
 * least recently read closed first; a segment deleted ({@link #drop}) is closed once its reads in
 * progress end, as a read that opened it before the delete kept reading the unlinked file. Plain
 * {@link RandomAccessFile}s (one read at a time each, under its own lock): no thread's interrupt
 * closes one under another's read, as it would an interruptible {@code FileChannel}. Thread-safe.
 */
final class SegmentReaders implements AutoCloseable {
  /** Open handles kept: a few 64 MiB segments and a version's file segments being served. */
  static final int MAX_OPEN = 8;

  private final int maxOpen;
  /** Access order: the eldest is the least recently read. Guarded by this. */
  private final LinkedHashMap<Segment, Handle> open = new LinkedHashMap<>(16, 0.75f, true);
  private boolean closed; // guarded by this
  private final LongAdder opens = new LongAdder();

  SegmentReaders() {
    this(MAX_OPEN);
  }

  SegmentReaders(int maxOpen) {
    if (maxOpen < 1) {
      throw new IllegalArgumentException("maxOpen must be >= 1");
    }
    this.maxOpen = maxOpen;
  }

  /** One segment's open file and the reads using it. */
  private static final class Handle {
    final RandomAccessFile file;
    int users; // guarded by SegmentReaders.this
    boolean retired; // guarded by SegmentReaders.this: closed when its last user is done

    Handle(RandomAccessFile file) {
      this.file = file;
    }
  }

  /**
   * The {@code size} bytes at {@code offset} of {@code s}'s file, in an array of their own; null if
   * the file is gone or shorter than that.
   */
  byte[] read(Segment s, long offset, int size) throws IOException {
    Handle h = acquire(s);
    if (h == null) {
      return null;
    }
    try {
      byte[] data = new byte[size];
      synchronized (h) {
        h.file.seek(offset);
        h.file.readFully(data);
      }
      return data;
    } catch (EOFException e) {
      return null;
    } finally {
      release(h);
    }
  }

  private Handle acquire(Segment s) throws IOException {
    synchronized (this) {
      Handle h = open.get(s);
      if (h != null) {
        h.users++;
        return h;
      }
    }
    RandomAccessFile f;
    try {
      f = new RandomAccessFile(s.path.toFile(), "r"); // outside the lock: reads of other segments go on
    } catch (FileNotFoundException e) {
      return null;
    }
    opens.increment();
    List<Handle> toClose = new ArrayList<>(1);
    Handle mine = new Handle(f);
    mine.users = 1;
    synchronized (this) {
      Handle raced = open.get(s);
      if (raced != null) { // another read opened it meanwhile: use that one
        raced.users++;
        mine.retired = true;
        mine.users = 0;
        toClose.add(mine);
        mine = raced;
      } else if (closed) {
        mine.retired = true; // after close: this read only
      } else {
        open.put(s, mine);
        Iterator<Map.Entry<Segment, Handle>> it = open.entrySet().iterator();
        while (open.size() > maxOpen && it.hasNext()) {
          Handle eldest = it.next().getValue();
          it.remove();
          retire(eldest, toClose);
        }
      }
    }
    closeAll(toClose);
    return mine;
  }

  private void release(Handle h) {
    boolean close;
    synchronized (this) {
      h.users--;
      close = h.retired && h.users == 0;
    }
    if (close) {
      closeQuietly(h);
    }
  }

  /** The segment is deleted (or moved away): its handle is closed once the reads using it end. */
  void drop(Segment s) {
    List<Handle> toClose = new ArrayList<>(1);
    synchronized (this) {
      Handle h = open.remove(s);
      if (h != null) {
        retire(h, toClose);
      }
    }
    closeAll(toClose);
  }

  /** Handles open now (tests). */
  synchronized int openCount() {
    return open.size();
  }

  /** Files opened since this was made (tests: a read of a kept segment opens nothing). */
  long opens() {
    return opens.sum();
  }

  @Override
  public void close() {
    List<Handle> toClose = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Handle h : open.values()) {
        retire(h, toClose);
      }
      open.clear();
    }
    closeAll(toClose);
  }

  /** Under the lock: marks {@code h} closed-when-unused, and adds it to {@code toClose} if unused now. */
  private static void retire(Handle h, List<Handle> toClose) {
    h.retired = true;
    if (h.users == 0) {
      toClose.add(h);
    }
  }

  private static void closeAll(List<Handle> hs) {
    for (Handle h : hs) {
      closeQuietly(h);
    }
  }

  private static void closeQuietly(Handle h) {
    try {
      h.file.close();
    } catch (IOException e) {
      // read-only: nothing to lose
    }
  }
}
