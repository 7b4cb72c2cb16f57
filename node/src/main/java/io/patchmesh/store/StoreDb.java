package io.patchmesh.store;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open RocksDB and its column families; with {@link RocksHandles} (its native objects and
 * how they are opened), the one place that touches the RocksDB API and turns its exceptions into ours.
 *
 * <p>Lifecycle: every operation holds the read side of {@link #lifecycle}; {@link #close} and
 * the reopen after a full disk take the write side, so no thread ever uses a freed native
 * handle (which would crash the JVM rather than throw).
 *
 * <p>Full disk: RocksDB stops accepting writes after a failed WAL or flush write and does not
 * always resume by itself. A write that fails for lack of space throws {@link
 * StoreFullException} and marks the database stopped; the next write reopens it (WAL replay
 * recovers everything acknowledged before), which succeeds once space has been freed.
 */
final class StoreDb implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreDb.class);

  /** Column families, by the name they have on disk. */
  enum Cf {
    CHUNKS("chunks"),
    CHUNK_INDEX("chunk_index"),
    MANIFESTS("manifests"),
    REFS("refs"),
    STATE("state");

    final String diskName;

    Cf(String diskName) {
      this.diskName = diskName;
    }
  }

  private final Path dir;
  private final StoreConfig cfg;
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private RocksHandles handles; // guarded by lifecycle; null once closed or after a failed reopen
  private volatile boolean stopped; // a write failed for lack of space; reopen before writing
  private boolean closed;

  private StoreDb(Path dir, StoreConfig cfg, RocksHandles handles) {
    this.dir = dir;
    this.cfg = cfg;
    this.handles = handles;
  }

  static StoreDb open(Path dir, StoreConfig cfg) {
    NativeLibrary.load();
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new UserInputException(abs + ": not a directory, cannot hold a store");
    }
    try {
      Files.createDirectories(abs);
    } catch (IOException e) {
      throw new UserInputException(abs + ": cannot create store directory (" + e + ")");
    }
    if (!Files.isReadable(abs) || !Files.isWritable(abs)) {
      throw new UserInputException(abs + ": store directory is not readable and writable");
    }
    try {
      return new StoreDb(abs, cfg, RocksHandles.open(abs, cfg));
    } catch (RocksDBException e) {
      throw openFailure(abs, e);
    }
  }

  Path dir() {
    return dir;
  }

  // ---- reads ----

  byte[] get(Cf cf, byte[] key) {
    reopenIfClosedByFullDisk();
    lifecycle.readLock().lock();
    try {
      RocksHandles h = live();
      return h.db.get(h.cf(cf), key);
    } catch (RocksDBException e) {
      throw failure("read", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * A read view for scans: holds the lifecycle's read lock and the iterators it created (each
   * sees the data as of its creation) until closed. Use in try-with-resources on one thread,
   * and do not write through this StoreDb while holding it (a write may need the write lock).
   */
  View view() {
    lifecycle.readLock().lock();
    try {
      return new View(live());
    } catch (RuntimeException e) {
      lifecycle.readLock().unlock();
      throw e;
    }
  }

  final class View implements AutoCloseable {
    private final RocksHandles h;
    private final ReadOptions scanOptions = new ReadOptions().setFillCache(false);
    private final List<RocksIterator> open = new ArrayList<>();

    private View(RocksHandles h) {
      this.h = h;
    }

    /** An iterator positioned at the first key at or after {@code from}. */
    RocksIterator iterator(Cf cf, byte[] from) {
      RocksIterator it = h.db.newIterator(h.cf(cf), scanOptions);
      open.add(it);
      if (from == null) {
        it.seekToFirst();
      } else {
        it.seek(from);
      }
      return it;
    }

    /** Throws if an iterator stopped on an error rather than at the end. */
    void check(RocksIterator it) {
      try {
        it.status();
      } catch (RocksDBException e) {
        throw failure("scan", e);
      }
    }

    @Override
    public void close() {
      try {
        open.forEach(RocksIterator::close);
        scanOptions.close();
      } finally {
        lifecycle.readLock().unlock();
      }
    }
  }

  // ---- writes ----

  /** Applies {@code batch} atomically; durable before return if {@code sync}. */
  void write(Batch batch, boolean sync) {
    if (stopped) {
      reopenAfterFullDisk();
    }
    lifecycle.readLock().lock();
    try {
      RocksHandles h = live();
      try (WriteBatch wb = new WriteBatch()) {
        for (Batch.Op op : batch.ops) {
          if (op.value() == null) {
            wb.delete(h.cf(op.cf()), op.key());
          } else {
            wb.put(h.cf(op.cf()), op.key(), op.value());
          }
        }
        h.db.write(sync ? h.syncWrite : h.plainWrite, wb);
      }
    } catch (RocksDBException e) {
      throw failure("write", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Writes to apply together; a null value means delete. */
  static final class Batch {
    record Op(Cf cf, byte[] key, byte[] value) {}

    private final List<Op> ops = new ArrayList<>();

    Batch put(Cf cf, byte[] key, byte[] value) {
      ops.add(new Op(cf, key, value));
      return this;
    }

    Batch delete(Cf cf, byte[] key) {
      ops.add(new Op(cf, key, null));
      return this;
    }

    boolean isEmpty() {
      return ops.isEmpty();
    }
  }

  /**
   * Compacts a column family so deleted chunks' blob files leave the disk. Blob garbage
   * collection (moving live blobs out of the oldest files) is switched on for this compaction
   * only: left on, every background compaction during a rollout rewrote chunks just stored.
   */
  void compact(Cf cf) {
    lifecycle.readLock().lock();
    try {
      RocksHandles h = live();
      if (cf != Cf.CHUNKS) {
        h.db.compactRange(h.cf(cf));
        return;
      }
      h.db.setOptions(h.cf(cf), RocksHandles.blobGc(true));
      try {
        h.db.compactRange(h.cf(cf));
      } finally {
        h.db.setOptions(h.cf(cf), RocksHandles.blobGc(false));
      }
    } catch (RocksDBException e) {
      throw failure("compaction", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Bytes of live SST and blob files, as RocksDB reports them. */
  long diskBytes() {
    lifecycle.readLock().lock();
    try {
      RocksHandles h = live();
      long total = 0;
      for (Cf cf : Cf.values()) {
        total += h.db.getLongProperty(h.cf(cf), "rocksdb.live-sst-files-size");
        total += h.db.getLongProperty(h.cf(cf), "rocksdb.live-blob-file-size");
      }
      return total;
    } catch (RocksDBException e) {
      throw failure("property read", e);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (handles != null) {
        handles.close();
        handles = null;
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  // ---- failures ----

  private RocksHandles live() {
    if (closed) {
      throw new IllegalStateException(dir + ": store is closed");
    }
    if (handles == null) {
      throw new StoreFullException(dir + ": store stopped after the disk filled up and could not"
          + " reopen yet; free disk space and retry");
    }
    return handles;
  }

  private RuntimeException failure(String what, RocksDBException e) {
    if (isNoSpace(e)) {
      stopped = true;
      return new StoreFullException(dir + ": disk full, " + what + " refused (" + oneLine(e)
          + "); free disk space or lower the store quota", e);
    }
    return new StoreException(dir + ": store " + what + " failed: " + oneLine(e), e);
  }

  /**
   * A reopen after a full disk failed and left no database: a read must try again too, or a
   * caller that reads before it writes (ChunkStore.put asks has() first) never reaches the write
   * that would reopen, and the store stays stopped after space is freed.
   */
  private void reopenIfClosedByFullDisk() {
    if (!stopped) {
      return;
    }
    boolean gone;
    lifecycle.readLock().lock();
    try {
      gone = handles == null && !closed;
    } finally {
      lifecycle.readLock().unlock();
    }
    if (gone) {
      reopenAfterFullDisk();
    }
  }

  /**
   * Closes and reopens RocksDB after it stopped on a full disk. RocksDB replays its WAL on open,
   * so every acknowledged write survives. If there is still no room, stays stopped and throws.
   *
   * <p>While the disk is still full the database is left open: RocksDB keeps serving reads after a
   * failed write, and a node whose store cannot even be read can serve none of the chunks it has
   * announced, so its site-mates would wait for it. The close-and-reopen is tried only once the
   * file system reports room for it ({@link #REOPEN_MIN_FREE_BYTES}: a new WAL, MANIFEST and the
   * flush of the replayed memtable).
   */
  private void reopenAfterFullDisk() {
    if (handles != null && !roomToReopen()) {
      throw new StoreFullException(dir + ": disk still full (less than "
          + REOPEN_MIN_FREE_BYTES / (1 << 20) + " MiB free); free disk space or lower the store quota");
    }
    lifecycle.writeLock().lock();
    try {
      if (!stopped || closed) {
        return;
      }
      if (handles != null) {
        handles.close();
        handles = null;
      }
      try {
        handles = RocksHandles.open(dir, cfg);
        stopped = false;
        log.warn("{}: store reopened after the disk filled up; writes resume", dir);
      } catch (RocksDBException e) {
        throw failure("reopen", e);
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** Free space a reopen needs before we give up a database that can still be read. */
  static final long REOPEN_MIN_FREE_BYTES = 8L << 20;

  /** A statvfs call: cheap enough to ask on every write while the store is stopped. */
  private boolean roomToReopen() {
    try {
      return Files.getFileStore(dir).getUsableSpace() >= REOPEN_MIN_FREE_BYTES;
    } catch (IOException e) {
      return true; // cannot tell: try the reopen, which reports its own failure
    }
  }

  private static RuntimeException openFailure(Path dir, RocksDBException e) {
    if (isLocked(e)) {
      return new StoreLockedException(dir);
    }
    if (isNoSpace(e)) {
      return new StoreFullException(dir + ": disk full, cannot open the store (" + oneLine(e)
          + ")", e);
    }
    return new UserInputException(
        dir + ": not a readable patchmesh store (" + oneLine(e) + ")", e);
  }

  static boolean isNoSpace(RocksDBException e) {
    Status s = e.getStatus();
    if (s != null && s.getSubCode() == Status.SubCode.NoSpace) {
      return true;
    }
    String m = e.getMessage();
    return m != null && m.contains("No space left");
  }

  /**
   * RocksDB reports a held LOCK file as an IO error: "While lock file: DIR/LOCK: Resource
   * temporarily unavailable" (other process) or "lock hold by current process" (same process).
   */
  static boolean isLocked(RocksDBException e) {
    String m = e.getMessage();
    if (m == null) {
      return false;
    }
    String lower = m.toLowerCase(Locale.ROOT);
    return lower.contains("lock hold by current process")
        || (lower.contains("lock file") && lower.contains("/lock"));
  }

  private static String oneLine(RocksDBException e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
