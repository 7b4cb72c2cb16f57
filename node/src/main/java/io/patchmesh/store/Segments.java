package io.patchmesh.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chunk bytes in append-only segment files ({@link Segment}), many chunks per file, so a
 * chunk costs no inode of its own (BENCHMARKS 12.21, 12.22). Thread-safe.
 *
 * <p>Appends: one lock around the write of a chunk's bytes into the active segment (the two
 * worker threads take turns for the length of one write call); a segment full at {@link
 * #segmentBytes} is sealed and a new one started. The bytes have reached the OS when {@link
 * #append} returns, so an index entry written after it is never ahead of its bytes on a process
 * crash.
 *
 * <p>Durability without a fdatasync per chunk: after every {@link #SYNC_EVERY_BYTES} appended, a
 * background thread (started on demand, gone after a few idle seconds) fdatasyncs the segments'
 * new tails and records each one's durable length in the state column family. The record is
 * written after the sync, so it is never ahead of the disk; at open, chunks beyond their segment's
 * recorded durable length are hashed again ({@link SegmentCheck}), so a power loss never leaves an
 * entry that serves wrong bytes. A put does not wait for any of it.
 *
 * <p>Reads seek and read a segment's file kept open ({@link SegmentReaders}: plain streams, no
 * per-thread direct buffer; the few segments read lately stay open). A segment deleted meanwhile
 * reads as absent; {@link ChunkStore#get} then reads the index again under the chunk's lock and
 * finds where the chunk moved.
 */
final class Segments implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Segments.class);
  static final long SEGMENT_BYTES = 64L << 20;
  static final long SYNC_EVERY_BYTES =
      Long.getLong("patchmesh.store.syncEveryMiB", 8) <= 0 ? Long.MAX_VALUE : Long.getLong("patchmesh.store.syncEveryMiB", 8) << 20;
  static final String NEXT_KEY = "segments/next";

  /** Where a chunk's bytes were appended. */
  record Location(int segment, long offset) {}

  private final Path root;
  private final StoreDb db;
  private final long segmentBytes;
  private final boolean syncEach;
  private final ConcurrentHashMap<Integer, Segment> segments = new ConcurrentHashMap<>();
  private final ReentrantLock appendLock = new ReentrantLock();
  private Segment active; // guarded by appendLock
  private int next; // guarded by appendLock
  private long unsynced; // guarded by appendLock
  private final Object syncLock = new Object();
  private final AtomicBoolean syncQueued = new AtomicBoolean();
  private final ThreadPoolExecutor syncer;
  private final SegmentReaders readers = new SegmentReaders();

  Segments(Path root, StoreDb db, long segmentBytes, boolean syncEach) {
    this.root = root;
    this.db = db;
    this.segmentBytes = segmentBytes;
    this.syncEach = syncEach;
    this.syncer = new ThreadPoolExecutor(0, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "patchmesh-segment-sync");
      t.setDaemon(true);
      return t;
    });
    byte[] n = db.get(Cf.STATE, Keys.state(NEXT_KEY));
    next = n == null ? 1 : (int) Math.max(1, Math.min(Integer.MAX_VALUE, Keys.decodeLong(n)));
    for (Path p : listFiles()) {
      String fname = p.getFileName().toString();
      boolean file = Segment.fileNumberOf(fname) >= 0;
      int number = file ? Segment.fileNumberOf(fname) : Segment.numberOf(fname);
      if (segments.containsKey(number)) {
        // seg-N and file-N: numbers are never given twice, so neither can be trusted to be the
        // index's; the check drops the entries that do not verify
        log.warn("{}: two segment files numbered {}", root, number);
        continue;
      }
      try {
        byte[] d = db.get(Cf.STATE, Keys.state(Segment.durableKey(number)));
        Segment s = new Segment(root, number, Files.size(p), d == null ? 0 : Keys.decodeLong(d), file);
        s.sealed = file;
        s.verifyReads = file && db.get(Cf.STATE, Keys.state(Segment.linkedKey(number))) != null;
        segments.put(number, s);
      } catch (IOException e) {
        throw new StoreException(p + ": cannot read segment size: " + e, e);
      }
      next = Math.max(next, number + 1);
    }
  }

  /**
   * Creates a file segment of {@code size} bytes (sparse until written), numbered like segments
   * (the next number recorded, synced, before the file exists), marked staging; its writer opens
   * it (see {@link FileStaging}).
   */
  Segment createFile(long size) {
    int number;
    appendLock.lock();
    try {
      number = next++;
      db.write(new Batch().put(Cf.STATE, Keys.state(NEXT_KEY), Keys.encodeLong(next)), true);
    } finally {
      appendLock.unlock();
    }
    Segment s = Segment.createFile(root, number, size);
    segments.put(number, s);
    return s;
  }

  /**
   * Records that file segments were fdatasync'ed whole by their writer (no chunk in them is
   * hashed again at the next open) and, with {@code linked}, that they are about to be
   * hard-linked out, so every read of them verifies. Synced before it returns.
   */
  void markFiles(List<Segment> files, boolean linked) {
    Batch b = new Batch();
    for (Segment s : files) {
      s.durable = s.length;
      b.put(Cf.STATE, Keys.state(Segment.durableKey(s.number)), Keys.encodeLong(s.length));
      if (linked) {
        s.verifyReads = true;
        b.put(Cf.STATE, Keys.state(Segment.linkedKey(s.number)), new byte[] {1});
      }
    }
    db.write(b, true);
  }

  Path root() {
    return root;
  }

  /** The kept read handles (tests). */
  SegmentReaders readers() {
    return readers;
  }

  /** The segment of that number, or null if there is none (never was, or deleted). */
  Segment get(int number) {
    return segments.get(number);
  }

  List<Segment> all() {
    return new ArrayList<>(segments.values());
  }

  /** The segment appends go to, or null before the first append. */
  Segment active() {
    appendLock.lock();
    try {
      return active;
    } finally {
      appendLock.unlock();
    }
  }

  /** Ends appends to {@code s} if it is the active segment; the next append starts a new one. */
  void seal(Segment s) {
    appendLock.lock();
    try {
      if (active == s) {
        s.sealed = true;
        active = null;
      }
    } finally {
      appendLock.unlock();
    }
  }

  /**
   * After the open's check: makes {@code last} (its tail beyond {@code liveEnd} cut, dead bytes
   * of interrupted puts) the active segment if it has room, and raises the next number above
   * every number the index still names.
   */
  void resume(Segment last, long liveEnd, int maxIndexed) {
    appendLock.lock();
    try {
      next = Math.max(next, maxIndexed + 1);
      if (last == null || liveEnd >= segmentBytes) {
        return;
      }
      try {
        if (last.length > liveEnd) {
          try (RandomAccessFile f = new RandomAccessFile(last.path.toFile(), "rw")) {
            f.setLength(liveEnd);
          }
          last.length = liveEnd;
          if (last.durable > liveEnd) {
            last.durable = liveEnd;
            db.write(durableRecord(last), false);
          }
        }
        last.out = new FileOutputStream(last.path.toFile(), true);
        active = last;
      } catch (IOException e) {
        throw new StoreException(last.path + ": cannot reopen segment: " + e, e);
      }
    } finally {
      appendLock.unlock();
    }
  }

  /**
   * Appends a chunk's bytes (the ByteString's own arrays, not a copy) and returns where they are.
   * With {@code syncEach} the segment is fdatasync'ed before this returns.
   *
   * @throws StoreFullException if the file system has no room; the segment is cut back
   * @throws StoreException on any other I/O error; the segment is cut back
   */
  Location append(ByteString data) {
    int size = data.size();
    boolean syncDue;
    Location at;
    appendLock.lock();
    try {
      if (active == null || (active.length > 0 && active.length + size > segmentBytes)) {
        roll();
      }
      Segment s = active;
      long offset = s.length;
      try {
        UnsafeByteOperations.unsafeWriteTo(data, new StreamOutput(s.out));
        if (syncEach) {
          s.out.getChannel().force(false);
        }
      } catch (IOException e) {
        cutBack(s, offset);
        if (ChunkFiles.isNoSpace(e)) {
          throw new StoreFullException(root + ": disk full, chunk write refused (" + e.getMessage()
              + "); free disk space or lower the store quota", e);
        }
        throw new StoreException(s.path + ": chunk write failed: " + e, e);
      }
      s.length = offset + size;
      s.written(offset, System.nanoTime());
      at = new Location(s.number, offset);
      unsynced += size;
      syncDue = unsynced >= SYNC_EVERY_BYTES;
      if (syncDue) {
        unsynced = 0;
      }
    } finally {
      appendLock.unlock();
    }
    if (syncEach) {
      sync();
    } else if (syncDue && syncQueued.compareAndSet(false, true)) {
      syncer.execute(() -> {
        syncQueued.set(false);
        try {
          sync();
        } catch (RuntimeException e) {
          log.warn("segment sync failed (retried after the next {} bytes): {}", SYNC_EVERY_BYTES, e.toString());
        }
      });
    }
    return at;
  }

  /**
   * The {@code size} bytes at {@code offset} of segment {@code number}; null if the segment is
   * gone or does not hold them (the caller decides).
   */
  byte[] read(int number, long offset, int size) {
    Segment s = segments.get(number);
    if (s == null || offset < 0 || size < 0 || offset > s.length - size) {
      return null;
    }
    try {
      return readers.read(s, offset, size);
    } catch (IOException e) {
      throw new StoreException(s.path + ": chunk read failed: " + e, e);
    }
  }

  /**
   * fdatasyncs every segment's tail not known durable yet, and records the new durable lengths
   * (not synced themselves: a lost record only means more hashing at the next open).
   */
  void sync() {
    synchronized (syncLock) {
      Batch records = new Batch();
      boolean any = false;
      for (Segment s : segments.values()) {
        FileOutputStream out;
        long len;
        appendLock.lock();
        try {
          out = s.out;
          len = s.length;
        } finally {
          appendLock.unlock();
        }
        if (out == null || len <= s.durable) {
          continue;
        }
        try {
          out.getChannel().force(false);
        } catch (IOException e) {
          throw new StoreException(s.path + ": fdatasync failed: " + e, e);
        }
        s.durable = len;
        records.put(Cf.STATE, Keys.state(Segment.durableKey(s.number)), Keys.encodeLong(len));
        any = true;
        appendLock.lock();
        try {
          if (s.sealed && s.durable >= s.length) {
            s.closeOut(); // nothing more to append or sync
          }
        } finally {
          appendLock.unlock();
        }
      }
      if (any) {
        db.write(records, false);
      }
    }
  }

  /**
   * At open, after the check hashed every chunk beyond its segment's durable length: fdatasyncs
   * the segments not appended to any more whose tails are not known durable (a crash left them
   * so), so the next open need not hash those chunks again.
   */
  void settle() {
    Batch records = new Batch();
    boolean any = false;
    for (Segment s : segments.values()) {
      if (s.out != null || s.durable >= s.length) {
        continue; // the active one is synced as it grows
      }
      try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
        ch.force(false);
      } catch (IOException e) {
        log.warn("{}: cannot sync segment at open: {}", s.path, e.toString());
        continue;
      }
      s.durable = s.length;
      records.put(Cf.STATE, Keys.state(Segment.durableKey(s.number)), Keys.encodeLong(s.length));
      any = true;
    }
    if (any) {
      db.write(records, false);
    }
    sync();
  }

  /**
   * {@link #sync}, then a synced write of the state column family, so every index entry written
   * before is on disk too (RocksDB's WAL is written in order).
   */
  void syncDurably() {
    sync();
    appendLock.lock();
    try {
      db.write(new Batch().put(Cf.STATE, Keys.state(NEXT_KEY), Keys.encodeLong(next)), true);
    } finally {
      appendLock.unlock();
    }
  }

  /**
   * Deletes a segment no index entry points at any more (its chunks moved or deleted). A read
   * that opened it before keeps reading the unlinked file; a later one finds no segment.
   */
  void delete(Segment s) {
    appendLock.lock();
    try {
      if (s == active) {
        return;
      }
      segments.remove(s.number, s);
      s.closeOut();
    } finally {
      appendLock.unlock();
    }
    readers.drop(s);
    try {
      Files.deleteIfExists(s.path);
    } catch (IOException e) {
      log.warn("{}: cannot delete segment: {}", s.path, e.toString());
    }
    db.write(new Batch().delete(Cf.STATE, Keys.state(Segment.durableKey(s.number)))
        .delete(Cf.STATE, Keys.state(Segment.linkedKey(s.number))), false);
  }

  /** Bytes of segment files on disk (live and dead). */
  long totalBytes() {
    long n = 0;
    for (Segment s : segments.values()) {
      n += s.length;
    }
    return n;
  }

  @Override
  public void close() {
    syncer.shutdown();
    try {
      syncer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      sync();
    } finally {
      appendLock.lock();
      try {
        segments.values().forEach(Segment::closeOut);
        active = null;
      } finally {
        appendLock.unlock();
      }
      readers.close();
    }
  }

  private void roll() {
    if (active != null) {
      active.sealed = true;
      if (active.durable >= active.length) {
        active.closeOut();
      }
    }
    for (Segment s : segments.values()) {
      if (s.sealed && s.out != null && s.durable >= s.length) {
        s.closeOut(); // sealed by a compaction, synced since
      }
    }
    int number = next++;
    // The next number on disk before the file exists: numbers are never reused.
    db.write(new Batch().put(Cf.STATE, Keys.state(NEXT_KEY), Keys.encodeLong(next)), true);
    Segment s = new Segment(root, number, 0, 0);
    try {
      Files.createDirectories(root);
      s.out = new FileOutputStream(s.path.toFile(), false);
    } catch (IOException e) {
      if (ChunkFiles.isNoSpace(e)) {
        throw new StoreFullException(root + ": disk full, cannot start a segment (" + e.getMessage() + ")", e);
      }
      throw new StoreException(s.path + ": cannot create segment: " + e, e);
    }
    segments.put(number, s);
    active = s;
  }

  private static void cutBack(Segment s, long length) {
    try {
      s.out.getChannel().truncate(length);
    } catch (IOException e) {
      // The tail stays as dead bytes (no entry points there); the next open cuts it.
    }
  }

  private Batch durableRecord(Segment s) {
    return new Batch().put(Cf.STATE, Keys.state(Segment.durableKey(s.number)), Keys.encodeLong(s.durable));
  }

  private List<Path> listFiles() {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if ((Segment.numberOf(name) >= 0 || Segment.fileNumberOf(name) >= 0) && Files.isRegularFile(p)) {
          out.add(p);
        }
      }
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      throw new StoreException(root + ": cannot list segments: " + e, e);
    }
    return out;
  }
}
