package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Cf;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the dead bytes that deletes leave in segments: a segment whose live share fell
 * below {@link #MAX_LIVE_SHARE} has its live chunks copied to the active segment (each one hashed
 * again and its entry switched under the chunk's lock, {@link ChunkStore#relocate}), then, once
 * nothing points at it, the copies are made durable (fdatasync, and a synced index write) and the
 * old file is deleted.
 *
 * <p>Bounded: a run copies at most its budget of bytes; a segment left half done is picked again
 * by the next run (its live share is lower still). Finding a segment's chunks is one pass over
 * the index, keeping one segment's entries (at most {@link Segments#SEGMENT_BYTES} / 16 KiB).
 *
 * <p>Crash-safe at every step: until the file is deleted every entry points either at the old
 * copy (still there) or at the new one (its bytes reached the OS before the entry; after a power
 * loss, hashed again at open). A read that found the old location and opened the file before the
 * delete reads the unlinked file; one that opens it after finds no segment and looks again under
 * the chunk's lock. Segment numbers are never reused, so no entry ever reads another's bytes.
 */
final class SegmentCompactor {
  private static final Logger log = LoggerFactory.getLogger(SegmentCompactor.class);
  static final double MAX_LIVE_SHARE = 0.5;
  /** Bytes a run copies at most. */
  static final long BUDGET_BYTES = 64L << 20;
  /** The active segment is compacted only from this size on. */
  static final long MIN_ACTIVE_BYTES = 1L << 20;

  private final StoreDb db;
  private final Segments segments;
  private final ChunkStore chunks;

  SegmentCompactor(StoreDb db, Segments segments, ChunkStore chunks) {
    this.db = db;
    this.segments = segments;
    this.chunks = chunks;
  }

  /** One run copying at most {@code budget} bytes (and a chunk). @return segments deleted */
  synchronized int run(long budget) {
    int deleted = 0;
    while (budget > 0) {
      Segment s = candidate();
      if (s == null) {
        break;
      }
      List<Located> live = liveChunks(s.number);
      for (Located c : live) {
        if (budget <= 0) {
          break;
        }
        if (chunks.relocate(c.id, s.number, c.offset)) {
          budget -= c.size;
        }
      }
      if (s.live.get() > 0 && budget <= 0) {
        break; // the next run goes on
      }
      if (s.live.get() > 0 && liveChunks(s.number).size() > 0) {
        log.warn("{}: segment {} still holds chunks after a compaction pass; left as it is",
            db.dir(), s.number);
        break;
      }
      segments.syncDurably(); // the copies and their entries on disk before the old file goes
      long dead = s.length;
      segments.delete(s);
      deleted++;
      log.debug("{}: compacted segment {} ({} bytes)", db.dir(), s.number, dead);
    }
    return deleted;
  }

  /**
   * The segment with the lowest live share below the limit, or null. The active one counts once
   * it holds {@link #MIN_ACTIVE_BYTES} (a GC after a rollout deletes what was just written): it is
   * sealed first, so the copies go to a new segment.
   */
  private Segment candidate() {
    Segment active = segments.active();
    Segment best = null;
    for (Segment s : segments.all()) {
      if (s.length == 0 || s.staging || s == active && s.length < MIN_ACTIVE_BYTES) {
        continue;
      }
      double share = (double) s.live.get() / s.length;
      if (share < MAX_LIVE_SHARE
          && (best == null || share < (double) best.live.get() / best.length)) {
        best = s;
      }
    }
    if (best != null && best == active) {
      segments.seal(best);
    }
    return best;
  }

  private record Located(ChunkId id, long offset, int size) {}

  private List<Located> liveChunks(int number) {
    List<Located> out = new ArrayList<>();
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.CHUNK_INDEX, null);
      for (; it.isValid(); it.next()) {
        byte[] e = it.value();
        if (Keys.inSegment(e) && Keys.segmentOf(e) == number && it.key().length == ChunkId.LENGTH) {
          out.add(new Located(ChunkId.of(it.key()), Keys.offsetOf(e), Keys.decodeInt(e)));
        }
      }
      view.check(it);
    }
    return out;
  }
}
