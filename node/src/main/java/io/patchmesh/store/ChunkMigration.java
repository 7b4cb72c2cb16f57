package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At open: moves chunks stored before chunk files (values in the {@code chunks} column family,
 * index entries of the size alone) into {@link ChunkFiles}, so an agent upgraded in place keeps
 * serving what it holds.
 *
 * <p>One chunk at a time, each move complete by itself, so an interrupted migration resumes at
 * the next open: the bytes are read and hashed again (only verified bytes move; a chunk that no
 * longer matches is dropped), its file is written and fdatasync'ed, then one batch deletes the
 * old value and switches the index entry to "in a file". A crash between leaves the old entry and
 * value, and a file that the next open's {@link ChunkIndexCheck} deletes before this runs again.
 *
 * <p>Bounded: keys are listed in windows of {@link #WINDOW}, one value is in memory at a time, and
 * the column family is compacted every {@link #COMPACT_EVERY_BYTES} moved (and at the end), which
 * frees blob files, so the store needs at most about that much extra disk while it migrates. If
 * the disk fills, the migration stops; what is left stays readable where it is
 * ({@link ChunkStore#get} reads both), and the next open continues.
 */
final class ChunkMigration {
  private static final Logger log = LoggerFactory.getLogger(ChunkMigration.class);
  static final int WINDOW = 256;
  static final long COMPACT_EVERY_BYTES = 256L << 20;

  /** What a run did. */
  record Result(long moved, long movedBytes, long dropped, boolean complete) {}

  private ChunkMigration() {}

  static Result run(StoreDb db, ChunkFiles files) {
    long moved = 0;
    long bytes = 0;
    long dropped = 0;
    long sinceCompact = 0;
    boolean complete = true;
    byte[] from = null;
    outer:
    while (true) {
      List<byte[]> keys = window(db, from);
      for (byte[] key : keys) {
        byte[] data = db.get(Cf.CHUNKS, key);
        ChunkId id = ChunkId.of(key);
        byte[] entry = db.get(Cf.CHUNK_INDEX, key);
        if (entry != null && Keys.inFile(entry)) {
          db.write(new Batch().delete(Cf.CHUNKS, key), false); // a stale copy; the file is the chunk
          continue;
        }
        if (data == null || entry == null || !id.matches(data)) {
          // A value without its entry, or bytes that rotted: never move unverified bytes.
          db.write(new Batch().delete(Cf.CHUNKS, key).delete(Cf.CHUNK_INDEX, key), true);
          dropped++;
          continue;
        }
        try {
          files.write(id, data, true); // durable before its old value is deleted
        } catch (StoreFullException e) {
          log.warn("{}: disk full while moving chunks into files ({} moved); the rest stays"
              + " readable where it is and moves at the next open", db.dir(), moved);
          complete = false;
          break outer;
        }
        db.write(new Batch().delete(Cf.CHUNKS, key).put(Cf.CHUNK_INDEX, key, Keys.chunkEntry(data.length)), false);
        moved++;
        bytes += data.length;
        sinceCompact += data.length;
        if (sinceCompact >= COMPACT_EVERY_BYTES) {
          db.compact(Cf.CHUNKS);
          sinceCompact = 0;
        }
      }
      if (keys.size() < WINDOW) {
        break;
      }
      from = keys.get(keys.size() - 1);
    }
    if (moved > 0 || dropped > 0) {
      db.compact(Cf.CHUNKS);
      log.info("{}: moved {} chunks ({} bytes) from the database into chunk files; dropped {}"
          + " that no longer matched their ids", db.dir(), moved, bytes, dropped);
    }
    return new Result(moved, bytes, dropped, complete);
  }

  /** Up to {@link #WINDOW} keys of the chunks column family after {@code from}. */
  private static List<byte[]> window(StoreDb db, byte[] from) {
    List<byte[]> keys = new ArrayList<>();
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.CHUNKS, from);
      if (from != null && it.isValid() && Arrays.equals(it.key(), from)) {
        it.next();
      }
      for (; it.isValid() && keys.size() < WINDOW; it.next()) {
        keys.add(it.key());
      }
      view.check(it);
    }
    return keys;
  }
}
