package io.patchmesh.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verified chunks by id. Thread-safe.
 *
 * <p>Invariant: a chunk is only ever written after its bytes hashed to its id, so everything
 * {@link #get} returns is verified content. Puts of the same id are serialized by a lock stripe
 * so that counts and byte totals stay exact under concurrency.
 *
 * <p>Layout: the bytes are in append-only segment files ({@link Segments}), the {@code
 * chunk_index} entry (size, segment, offset) marks the chunk held. A put appends the bytes first
 * (fdatasync'ed with {@link StoreConfig#syncChunkWrites()}; otherwise a segment's new tail is
 * synced per {@link Segments#SYNC_EVERY_BYTES}), then writes the entry; a delete removes the entry
 * and counts the bytes dead ({@link SegmentCompactor} reclaims them). So a process crash can leave
 * bytes without an entry (dead, cut at the next open) but never an entry ahead of its bytes; a
 * power loss can, and {@link SegmentCheck} hashes every chunk beyond its segment's durable length
 * again at open. Bytes found missing or out of their segment (or not matching their id, with
 * {@link StoreConfig#verifyOnRead()}) are reported corrupt and dropped, never served. Chunks of
 * older layouts are moved into segments at open ({@link ChunkMigration}); any it could not move
 * yet are read where they are.
 *
 * <p>Quota: {@link #put} reserves the chunk's size against {@link StoreConfig#quotaBytes()}
 * before writing; if the reservation does not fit it asks for one GC and then refuses with
 * {@link StoreFullException}.
 */
public final class ChunkStore {
  private static final Logger log = LoggerFactory.getLogger(ChunkStore.class);
  private static final int STRIPES = 256;
  /** State key of {@link #lifetimeDuplicatePuts()}. */
  static final String LIFETIME_DUPLICATES_KEY = "chunks/duplicate-puts";

  private final StoreDb db;
  private final ChunkFiles files;
  private final Segments segments;
  private final SegmentCompactor compactor;
  private final StoreConfig cfg;
  private final Runnable collectGarbage;
  private final Object[] stripes = new Object[STRIPES];
  /** The version whose chunks are written into its file segments as they are put, or null. */
  private volatile FileStaging fileStaging;

  private final AtomicLong count = new AtomicLong();
  private final AtomicLong stored = new AtomicLong(); // bytes written
  private final AtomicLong accounted = new AtomicLong(); // stored + reserved by puts in flight
  private final LongAdder newPuts = new LongAdder();
  private final LongAdder duplicatePuts = new LongAdder();
  private final LongAdder corruptRejected = new LongAdder();
  private final LongAdder corruptOnRead = new LongAdder();
  private final LongAdder quotaRefusals = new LongAdder();
  private final LongAdder legacyDeletes = new LongAdder();
  /** Duplicate puts over every life of this store, read at open and written on each duplicate. */
  private final AtomicLong lifetimeDuplicates = new AtomicLong();

  /**
   * Matches the index against the segments, moves chunks of an older layout into segments,
   * and counts what is held from the index (no chunk is read but those beyond a segment's
   * durable length).
   */
  ChunkStore(StoreDb db, StoreConfig cfg, Runnable collectGarbage) {
    this.db = db;
    this.files = new ChunkFiles(db.dir());
    this.cfg = cfg;
    this.collectGarbage = collectGarbage;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Object();
    }
    this.segments = new Segments(files.root(), db, cfg.segmentBytes(), cfg.syncChunkWrites());
    this.compactor = new SegmentCompactor(db, segments, this);
    SegmentCheck.Result held = SegmentCheck.run(db, segments);
    ChunkMigration.Result moved = ChunkMigration.run(db, files, segments);
    count.set(held.count() - moved.dropped());
    stored.set(held.bytes() - moved.droppedBytes());
    accounted.set(stored.get());
    byte[] dups = db.get(Cf.STATE, Keys.state(LIFETIME_DUPLICATES_KEY));
    lifetimeDuplicates.set(dups == null ? 0 : Keys.decodeLong(dups));
  }

  /**
   * Stores a chunk after checking that {@code data} hashes to {@code id}. The array is wrapped, not
   * copied: the caller must not change it during the call.
   *
   * @return true if stored, false if it was already present (counted as a duplicate)
   * @throws CorruptChunkException if the bytes do not match the id; nothing is stored
   * @throws StoreFullException if the quota (after a GC) or the disk has no room
   */
  public boolean put(ChunkId id, byte[] data) {
    return put(id, UnsafeByteOperations.unsafeWrap(data));
  }

  /**
   * Stores a chunk after checking that {@code data} hashes to {@code id}: a received piece's bytes
   * as parsed, hashed and written where they lie, with no copy into an array of ours (BENCHMARKS
   * 13l). A ByteString is immutable, so the bytes written are the bytes hashed.
   *
   * @return true if stored, false if it was already present (counted as a duplicate)
   * @throws CorruptChunkException if the bytes do not match the id; nothing is stored
   * @throws StoreFullException if the quota (after a GC) or the disk has no room
   */
  public boolean put(ChunkId id, ByteString data) {
    int length = data.size();
    if (!id.matches(data)) {
      corruptRejected.increment();
      throw new CorruptChunkException(id, length);
    }
    // Room first, then one index read under the stripe lock. Only near a full store, where
    // reserving may collect garbage or refuse, does a duplicate get its own read first: it
    // is refused as a duplicate there, never collects or fails for want of room.
    if (!tryReserve(length)) {
      if (has(id)) {
        duplicate();
        return false;
      }
      reserve(length);
    }
    boolean written = false;
    try {
      synchronized (stripe(id)) {
        if (has(id)) {
          duplicate();
          return false;
        }
        // The bytes before the entry that marks it held. If the entry's write fails, they are
        // dead bytes of the segment. A chunk of the version being staged goes to its place in
        // that version's file segment instead, written once (BENCHMARKS 13ak).
        FileStaging st = fileStaging;
        Segments.Location at = st == null ? null : st.store(id, data);
        if (at == null) {
          at = segments.append(data);
        }
        db.write(new Batch().put(Cf.CHUNK_INDEX, Keys.chunk(id),
            Keys.segmentEntry(length, at.segment(), at.offset())), cfg.syncChunkWrites());
        segments.get(at.segment()).live.addAndGet(length);
        written = true;
        count.incrementAndGet();
        stored.addAndGet(length);
        newPuts.increment();
        return true;
      }
    } finally {
      if (!written) {
        accounted.addAndGet(-length);
      }
    }
  }

  /**
   * The chunk's bytes (verified before they were stored), or null if absent. A chunk whose file
   * is missing or of the wrong length, or (with verifyOnRead) no longer matches its id, is
   * dropped and reads as absent.
   */
  public byte[] get(ChunkId id) {
    byte[] key = Keys.chunk(id);
    byte[] entry = db.get(Cf.CHUNK_INDEX, key);
    return entry == null ? null : get(id, key, entry);
  }

  /** What {@link #getIfRecent} returns for a chunk whose bytes this process did not write lately. */
  public static final byte[] NOT_RECENT = new byte[0];
  /** How long after this process last wrote into a segment a read of it counts as recent: 10 minutes. */
  static final long RECENT_NANOS = 600_000_000_000L;

  /**
   * As {@link #get}, but only if this process wrote the chunk's bytes and wrote into their segment in
   * the last {@link #RECENT_NANOS}, so almost surely in the page cache: a read a node loop may do itself
   * without waiting on the disk. {@link #NOT_RECENT} (compared by identity; nothing read) otherwise:
   * the caller reads it with {@link #get} where waiting is fine.
   */
  public byte[] getIfRecent(ChunkId id) {
    byte[] key = Keys.chunk(id);
    byte[] entry = db.get(Cf.CHUNK_INDEX, key);
    if (entry == null) {
      return null;
    }
    if (!Keys.inSegment(entry)) {
      return NOT_RECENT;
    }
    Segment s = segments.get(Keys.segmentOf(entry));
    return s != null && s.writtenWithin(Keys.offsetOf(entry), RECENT_NANOS, System.nanoTime()) ? get(id, key, entry) : NOT_RECENT;
  }

  private byte[] get(ChunkId id, byte[] key, byte[] entry) {
    byte[] data = read(id, key, entry);
    if (data != null && (!mustVerify(entry) || id.matches(data))) {
      return data;
    }
    synchronized (stripe(id)) { // again under the lock: a delete or put of this id may have raced
      entry = db.get(Cf.CHUNK_INDEX, key);
      if (entry == null) {
        return null;
      }
      data = read(id, key, entry);
      if (data != null && (!mustVerify(entry) || id.matches(data))) {
        return data;
      }
      corruptOnRead.increment();
      log.warn("chunk {} is damaged on disk (missing, wrong length or no longer matching its id);"
          + " dropping it", id.shortHex());
      delete(id);
      return null;
    }
  }

  /**
   * Whether a read of this entry is hashed before it is returned: with verifyOnRead, and always
   * for a file segment linked out into the apply dir, which something else may have changed in place.
   */
  private boolean mustVerify(byte[] entry) {
    if (cfg.verifyOnRead()) {
      return true;
    }
    if (!Keys.inSegment(entry)) {
      return false;
    }
    Segment s = segments.get(Keys.segmentOf(entry));
    return s != null && s.verifyReads;
  }

  /**
   * Starts writing {@code m}'s files as file segments of this store (see {@link FileStaging}):
   * from now on a put of one of its chunks writes the chunk at its offsets there, once, instead of
   * appending it to a segment. One staging at a time; a previous one stops taking puts.
   */
  public FileStaging stageFiles(io.patchmesh.proto.Manifest m, java.nio.file.Path applyDir) throws java.io.IOException {
    FileStaging st = FileStaging.open(this, segments, m, applyDir);
    fileStaging = st;
    return st;
  }

  /** Puts stop going to {@code st}'s files (it is verified, dropped or broken). */
  void endFileStaging(FileStaging st) {
    if (fileStaging == st) {
      fileStaging = null;
    }
  }

  /**
   * Whether a file of this store can be hard-linked into {@code dir} (same file system, links
   * allowed): tried with a probe file, both names removed after. False on any error (EXDEV
   * above all): staging then writes temp files as before file segments.
   */
  public boolean canLinkInto(java.nio.file.Path dir) {
    java.nio.file.Path probe = segments.root().resolve(".link-probe");
    java.nio.file.Path link = dir.resolve(".patchmesh-link-probe-" + Long.toHexString(System.nanoTime()));
    try {
      java.nio.file.Files.createDirectories(segments.root());
      java.nio.file.Files.createDirectories(dir);
      java.nio.file.Files.deleteIfExists(probe);
      java.nio.file.Files.createFile(probe);
      java.nio.file.Files.createLink(link, probe);
      return true;
    } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
      log.info("{} cannot be hard-linked into {} ({}): staged files are written apart from the store",
          segments.root(), dir, e.toString());
      return false;
    } finally {
      try {
        java.nio.file.Files.deleteIfExists(link);
        java.nio.file.Files.deleteIfExists(probe);
      } catch (java.io.IOException ignored) {
        // a probe left behind is harmless: neither name is a segment's or a temp file's
      }
    }
  }

  /** The bytes an index entry points at, or null if they are gone or of the wrong length. */
  private byte[] read(ChunkId id, byte[] key, byte[] entry) {
    int size = Keys.decodeInt(entry);
    if (Keys.inSegment(entry)) {
      return segments.read(Keys.segmentOf(entry), Keys.offsetOf(entry), size);
    }
    if (Keys.inFile(entry)) {
      return size < 0 ? null : files.read(id, size); // not moved into a segment yet
    }
    if (entry.length != 4) {
      return null; // not an entry of any layout: dropped
    }
    byte[] data = db.get(Cf.CHUNKS, key); // not moved into a file yet (ChunkMigration)
    return data == null || data.length != size ? null : data;
  }

  /**
   * Whether a put of {@code length} bytes is quick now: no fsync per chunk is configured and the
   * quota has room without a garbage collection (a hint; a racing put may still make it collect).
   * The node loop stores a piece itself only then (BENCHMARKS 13r).
   */
  public boolean putIsQuick(int length) {
    return !cfg.syncChunkWrites() && accounted.get() + length <= cfg.quotaBytes();
  }

  /** True if the chunk is stored. Reads only the small index, never the chunk's bytes. */
  public boolean has(ChunkId id) {
    return db.get(Cf.CHUNK_INDEX, Keys.chunk(id)) != null;
  }

  public long count() {
    return count.get();
  }

  /** Bytes of chunk content stored (what the quota bounds). */
  public long storedBytes() {
    return stored.get();
  }

  public long newPuts() {
    return newPuts.sum();
  }

  public long duplicatePuts() {
    return duplicatePuts.sum();
  }

  /**
   * Puts of an already stored chunk over every life of this store, not only since it was opened:
   * "a verified chunk is never fetched twice, restarts included" must be checkable after a
   * process was killed. Written without sync (survives a process crash, not a power failure).
   */
  public long lifetimeDuplicatePuts() {
    return lifetimeDuplicates.get();
  }

  private void duplicate() {
    duplicatePuts.increment();
    synchronized (lifetimeDuplicates) { // duplicates are rare: one small write each
      long n = lifetimeDuplicates.incrementAndGet();
      db.write(new Batch().put(Cf.STATE, Keys.state(LIFETIME_DUPLICATES_KEY), Keys.encodeLong(n)), false);
    }
  }

  public long corruptRejected() {
    return corruptRejected.sum();
  }

  public ChunkStats stats() {
    return new ChunkStats(count.get(), stored.get(), newPuts.sum(), duplicatePuts.sum(),
        corruptRejected.sum(), corruptOnRead.sum(), quotaRefusals.sum());
  }

  /**
   * Deletes a chunk (GC, or a chunk found rotten on read).
   *
   * @return the chunk's size, or -1 if it was not stored
   */
  long delete(ChunkId id) {
    byte[] key = Keys.chunk(id);
    synchronized (stripe(id)) {
      byte[] entry = db.get(Cf.CHUNK_INDEX, key);
      if (entry == null) {
        return -1;
      }
      // Not synced: a power loss may undo the delete; the bytes are still where the entry says
      // until the segment is compacted, and a compaction syncs before it deletes a segment.
      if (Keys.inSegment(entry)) {
        db.write(new Batch().delete(Cf.CHUNK_INDEX, key), false);
        Segment s = segments.get(Keys.segmentOf(entry));
        if (s != null) {
          s.live.addAndGet(-Keys.decodeInt(entry));
        }
      } else if (Keys.inFile(entry)) {
        db.write(new Batch().delete(Cf.CHUNK_INDEX, key), false);
        files.delete(id);
      } else {
        db.write(new Batch().delete(Cf.CHUNKS, key).delete(Cf.CHUNK_INDEX, key), false);
        legacyDeletes.increment();
      }
      int n = Keys.decodeInt(entry);
      count.decrementAndGet();
      stored.addAndGet(-n);
      accounted.addAndGet(-n);
      return n;
    }
  }

  /**
   * Moves a chunk out of a segment being compacted: if its entry still says {@code segment} at
   * {@code offset}, its bytes are read, hashed again and appended to the active segment, and its
   * entry switched. A chunk whose bytes no longer match is dropped.
   *
   * @return true if the chunk moved
   */
  boolean relocate(ChunkId id, int segment, long offset) {
    byte[] key = Keys.chunk(id);
    synchronized (stripe(id)) {
      byte[] entry = db.get(Cf.CHUNK_INDEX, key);
      if (entry == null || !Keys.inSegment(entry) || Keys.segmentOf(entry) != segment
          || Keys.offsetOf(entry) != offset) {
        return false; // deleted or moved meanwhile
      }
      int size = Keys.decodeInt(entry);
      byte[] data = segments.read(segment, offset, size);
      if (data == null || !id.matches(data)) {
        corruptOnRead.increment();
        log.warn("chunk {} is damaged in its segment; dropping it", id.shortHex());
        delete(id);
        return false;
      }
      Segments.Location at = segments.append(UnsafeByteOperations.unsafeWrap(data));
      db.write(new Batch().put(Cf.CHUNK_INDEX, key, Keys.segmentEntry(size, at.segment(), at.offset())), false);
      segments.get(at.segment()).live.addAndGet(size);
      Segment old = segments.get(segment);
      if (old != null) {
        old.live.addAndGet(-size);
      }
      return true;
    }
  }

  /** One compaction run copying at most {@code budget} bytes (GC runs one after a sweep). */
  int compactSegments(long budget) {
    return compactor.run(budget);
  }

  /** Bytes in segments that no chunk holds any more (deleted or moved, not yet reclaimed). */
  public long deadBytes() {
    long n = 0;
    for (Segment s : segments.all()) {
      n += s.dead();
    }
    return n;
  }

  /** Bytes of segment files on disk, live and dead. */
  long segmentBytes() {
    return segments.totalBytes();
  }

  Segments segments() {
    return segments;
  }

  /** Syncs the segments' tails and closes them; the database stays open. */
  void close() {
    segments.close();
  }

  /** Deletes of chunks still in the chunks column family: GC compacts it only after some. */
  long legacyDeletes() {
    return legacyDeletes.sum();
  }

  /** Session 14's chunk files (tests write that layout to check its migration). */
  ChunkFiles files() {
    return files;
  }

  /** Counts {@code length} against the quota if it fits now, with no collection. */
  private boolean tryReserve(int length) {
    while (true) {
      long current = accounted.get();
      if (current + length > cfg.quotaBytes()) {
        return false;
      }
      if (accounted.compareAndSet(current, current + length)) {
        return true;
      }
    }
  }

  private void reserve(int length) {
    boolean collected = false;
    while (true) {
      long current = accounted.get();
      if (current + length <= cfg.quotaBytes()) {
        if (accounted.compareAndSet(current, current + length)) {
          return;
        }
        continue;
      }
      if (!collected) {
        // Outside any stripe lock: GC takes stripe locks itself.
        collectGarbage.run();
        collected = true;
        continue;
      }
      quotaRefusals.increment();
      throw new StoreFullException(db.dir() + ": store quota of " + cfg.quotaBytes()
          + " bytes reached (" + current + " bytes of chunks kept for retained manifests);"
          + " cannot store " + length + " more bytes");
    }
  }

  private Object stripe(ChunkId id) {
    return stripes[Math.floorMod(id.hashCode(), STRIPES)];
  }
}
