package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verified chunks by id. Thread-safe.
 *
 * <p>Invariant: a chunk is only ever written after its bytes hashed to its id, so everything
 * {@link #get} returns is verified content. Puts of the same id are serialized by a lock stripe
 * so that counts and byte totals stay exact under concurrency.
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
  private final StoreConfig cfg;
  private final Runnable collectGarbage;
  private final Object[] stripes = new Object[STRIPES];

  private final AtomicLong count = new AtomicLong();
  private final AtomicLong stored = new AtomicLong(); // bytes written
  private final AtomicLong accounted = new AtomicLong(); // stored + reserved by puts in flight
  private final LongAdder newPuts = new LongAdder();
  private final LongAdder duplicatePuts = new LongAdder();
  private final LongAdder corruptRejected = new LongAdder();
  private final LongAdder corruptOnRead = new LongAdder();
  private final LongAdder quotaRefusals = new LongAdder();
  /** Duplicate puts over every life of this store, read at open and written on each duplicate. */
  private final AtomicLong lifetimeDuplicates = new AtomicLong();

  /** Counts what is stored by scanning the key-only index (no blob is read). */
  ChunkStore(StoreDb db, StoreConfig cfg, Runnable collectGarbage) {
    this.db = db;
    this.cfg = cfg;
    this.collectGarbage = collectGarbage;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Object();
    }
    long n = 0;
    long bytes = 0;
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.CHUNK_INDEX, null);
      for (; it.isValid(); it.next()) {
        n++;
        bytes += Keys.decodeInt(it.value());
      }
      view.check(it);
    }
    count.set(n);
    stored.set(bytes);
    accounted.set(bytes);
    byte[] dups = db.get(Cf.STATE, Keys.state(LIFETIME_DUPLICATES_KEY));
    lifetimeDuplicates.set(dups == null ? 0 : Keys.decodeLong(dups));
  }

  /**
   * Stores a chunk after checking that {@code data} hashes to {@code id}.
   *
   * @return true if stored, false if it was already present (counted as a duplicate)
   * @throws CorruptChunkException if the bytes do not match the id; nothing is stored
   * @throws StoreFullException if the quota (after a GC) or the disk has no room
   */
  public boolean put(ChunkId id, byte[] data) {
    if (!id.matches(data)) {
      corruptRejected.increment();
      throw new CorruptChunkException(id, data.length);
    }
    if (has(id)) {
      duplicate();
      return false;
    }
    reserve(data.length);
    boolean written = false;
    try {
      synchronized (stripe(id)) {
        if (has(id)) {
          duplicate();
          return false;
        }
        byte[] key = Keys.chunk(id);
        db.write(new Batch()
            .put(Cf.CHUNKS, key, data)
            .put(Cf.CHUNK_INDEX, key, Keys.encodeInt(data.length)),
            cfg.syncChunkWrites());
        written = true;
        count.incrementAndGet();
        stored.addAndGet(data.length);
        newPuts.increment();
        return true;
      }
    } finally {
      if (!written) {
        accounted.addAndGet(-data.length);
      }
    }
  }

  /** The chunk's bytes (verified before they were stored), or null if absent. */
  public byte[] get(ChunkId id) {
    byte[] data = db.get(Cf.CHUNKS, Keys.chunk(id));
    if (data != null && cfg.verifyOnRead() && !id.matches(data)) {
      corruptOnRead.increment();
      log.warn("chunk {} no longer matches its id on disk; dropping it", id.shortHex());
      delete(id);
      return null;
    }
    return data;
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
      byte[] size = db.get(Cf.CHUNK_INDEX, key);
      if (size == null) {
        return -1;
      }
      // Not synced: if a crash loses this delete, the chunk reappears and the next GC drops it.
      db.write(new Batch().delete(Cf.CHUNKS, key).delete(Cf.CHUNK_INDEX, key), false);
      int n = Keys.decodeInt(size);
      count.decrementAndGet();
      stored.addAndGet(-n);
      accounted.addAndGet(-n);
      return n;
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
