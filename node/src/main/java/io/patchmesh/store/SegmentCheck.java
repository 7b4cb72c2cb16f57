package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At open: matches the chunk index against the segments and counts what is held, in one pass
 * over the index (no chunk is read unless it lies beyond its segment's durable length).
 *
 * <ul>
 *   <li>An entry naming a segment that is gone, or a range outside its segment (a corrupt entry,
 *       or a power loss that kept an entry whose bytes never reached the disk): dropped, so the
 *       chunk reads as absent and is fetched again, never served.
 *   <li>An entry whose bytes lie beyond the segment's recorded durable length (written since the
 *       last fdatasync before a crash): its bytes are hashed again and the entry dropped if they
 *       no longer match its id.
 *   <li>The newest segment's tail beyond its last live chunk (bytes of puts a crash interrupted
 *       before their entry) is cut, and appends continue there; other segments without a live
 *       chunk are deleted. Dead bytes inside segments are left to {@link SegmentCompactor}.
 *   <li>File segments ({@link FileStaging}) are checked like segments (an entry beyond a file
 *       segment's durable mark, i.e. any of a staging a crash interrupted, is hashed again), never
 *       appended to, and deleted when no entry points into them.
 *   <li>Then every segment's tail not known durable (checked just now) is fdatasync'ed and its
 *       durable length recorded, so the next open does not hash it again.
 * </ul>
 *
 * <p>Entries of older layouts (in the chunks column family, or one file per chunk) are counted
 * as held; {@link ChunkMigration} moves them next.
 */
final class SegmentCheck {
  private static final Logger log = LoggerFactory.getLogger(SegmentCheck.class);
  private static final int DROP_BATCH = 4096;

  /** What the check found: chunks and bytes held, entries dropped, entries hashed again. */
  record Result(long count, long bytes, long dropped, long rehashed) {}

  private SegmentCheck() {}

  static Result run(StoreDb db, Segments segments) {
    long count = 0;
    long bytes = 0;
    long rehashed = 0;
    int maxIndexed = 0;
    Map<Integer, Long> liveEnd = new HashMap<>();
    List<byte[]> drop = new ArrayList<>();
    long dropped = 0;
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.CHUNK_INDEX, null);
      for (; it.isValid(); it.next()) {
        byte[] key = it.key();
        byte[] entry = it.value();
        boolean keep;
        if (key.length != ChunkId.LENGTH || entry.length < 4) {
          keep = false;
        } else if (!Keys.inSegment(entry)) {
          keep = entry.length == 4 || Keys.inFile(entry); // older layouts: ChunkMigration's
        } else {
          int size = Keys.decodeInt(entry);
          int number = Keys.segmentOf(entry);
          long offset = Keys.offsetOf(entry);
          maxIndexed = Math.max(maxIndexed, number);
          Segment s = segments.get(number);
          keep = s != null && size >= 0 && offset >= 0 && offset <= s.length - size;
          if (keep && offset + size > s.durable) {
            rehashed++;
            byte[] data = segments.read(number, offset, size);
            keep = data != null && ChunkId.of(key).matches(data);
          }
          if (keep) {
            s.live.addAndGet(size);
            liveEnd.merge(number, offset + size, Math::max);
          }
        }
        if (keep) {
          count++;
          bytes += Keys.decodeInt(entry);
        } else {
          drop.add(key);
          dropped++;
          if (drop.size() >= DROP_BATCH) {
            deleteEntries(db, drop);
          }
        }
      }
      view.check(it);
    }
    deleteEntries(db, drop);
    Segment newest = null;
    for (Segment s : segments.all()) {
      if (!s.file && (newest == null || s.number > newest.number)) { // file segments: never appended to
        newest = s;
      }
    }
    for (Segment s : segments.all()) {
      if (s != newest && s.live.get() == 0) {
        segments.delete(s); // every chunk in it moved or deleted before the crash
      }
    }
    segments.resume(newest, newest == null ? 0 : liveEnd.getOrDefault(newest.number, 0L), maxIndexed);
    segments.settle();
    if (dropped > 0) {
      log.warn("{}: dropped {} chunk index entries whose bytes are gone, out of their segment or"
          + " no longer matching (a crash or a damaged store); those chunks are fetched again",
          db.dir(), dropped);
    }
    return new Result(count, bytes, dropped, rehashed);
  }

  private static void deleteEntries(StoreDb db, List<byte[]> keys) {
    if (keys.isEmpty()) {
      return;
    }
    Batch b = new Batch();
    keys.forEach(k -> b.delete(Cf.CHUNK_INDEX, k));
    db.write(b, true);
    keys.clear();
  }
}
