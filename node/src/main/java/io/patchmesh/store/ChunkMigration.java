package io.patchmesh.store;

import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At open: moves chunks of the two older layouts into {@link Segments}, so an agent upgraded in
 * place keeps serving what it holds: values in the {@code chunks} column family (index entries of
 * the size alone), and session 14's one file per chunk ({@link ChunkFiles}, entries "in a file").
 *
 * <p>In groups of up to {@link #GROUP_BYTES}, each complete by itself, so an interrupted
 * migration resumes at the next open: every chunk's bytes are read and hashed again (only verified
 * bytes move; one that no longer matches, or whose file is missing or short, is dropped) and
 * appended to a segment; then the segments are fdatasync'ed, one synced batch switches the
 * group's entries to their segment and deletes the old values, and only then are the group's old
 * files deleted. A crash between leaves the old entries and bytes, plus dead bytes in a segment.
 *
 * <p>Bounded: keys are listed in windows of {@link #WINDOW}, one chunk is in memory at a time, the
 * old bytes of at most one group exist twice, and the column family is compacted every {@link
 * #COMPACT_EVERY_BYTES} moved (which frees blob files). If the disk fills, the migration stops;
 * what is left stays readable where it is ({@link ChunkStore#get} reads every layout), and the
 * next open continues. Once nothing is left in files, the fan-out directories (and any orphan
 * files in them) are deleted.
 */
final class ChunkMigration {
  private static final Logger log = LoggerFactory.getLogger(ChunkMigration.class);
  static final int WINDOW = 256;
  static final long GROUP_BYTES = 8L << 20;
  static final long COMPACT_EVERY_BYTES = 256L << 20;

  /** What a run did. */
  record Result(long moved, long movedBytes, long dropped, long droppedBytes, boolean complete) {}

  private final StoreDb db;
  private final ChunkFiles files;
  private final Segments segments;
  private final List<Moved> group = new ArrayList<>();
  private long groupBytes;
  private long moved;
  private long movedBytes;
  private long dropped;
  private long droppedBytes;
  private long sinceCompact;

  private record Moved(byte[] key, int size, Segments.Location at, boolean fromFile) {}

  private ChunkMigration(StoreDb db, ChunkFiles files, Segments segments) {
    this.db = db;
    this.files = files;
    this.segments = segments;
  }

  static Result run(StoreDb db, ChunkFiles files, Segments segments) {
    return new ChunkMigration(db, files, segments).run();
  }

  private Result run() {
    boolean complete;
    try {
      migrate(Cf.CHUNKS);
      boolean fanOut = hasFanOutDirs();
      if (fanOut) {
        migrate(Cf.CHUNK_INDEX);
      }
      commit();
      if (fanOut) {
        deleteFanOutDirs();
      }
      complete = true;
    } catch (StoreFullException e) {
      commit();
      log.warn("{}: disk full while moving chunks into segments ({} moved); the rest stays"
          + " readable where it is and moves at the next open", db.dir(), moved);
      complete = false;
    }
    if (moved > 0 || dropped > 0) {
      db.compact(Cf.CHUNKS);
      log.info("{}: moved {} chunks ({} bytes) into segment files; dropped {} that were missing or"
          + " no longer matched their ids", db.dir(), moved, movedBytes, dropped);
    }
    return new Result(moved, movedBytes, dropped, droppedBytes, complete);
  }

  /** Walks {@code cf} (old values, or the index for entries "in a file") and moves each chunk. */
  private void migrate(Cf cf) {
    byte[] from = null;
    while (true) {
      List<byte[]> keys = window(cf, from);
      for (byte[] key : keys) {
        byte[] entry = db.get(Cf.CHUNK_INDEX, key);
        if (cf == Cf.CHUNKS) {
          moveValue(key, entry);
        } else if (entry != null && Keys.inFile(entry)) {
          moveFile(key, Keys.decodeInt(entry));
        }
      }
      if (keys.size() < WINDOW) {
        return;
      }
      from = keys.get(keys.size() - 1);
    }
  }

  private void moveValue(byte[] key, byte[] entry) {
    if (entry != null && !(entry.length == 4)) {
      db.write(new Batch().delete(Cf.CHUNKS, key), false); // a stale copy; the entry is elsewhere
      return;
    }
    byte[] data = db.get(Cf.CHUNKS, key);
    if (data == null || entry == null || key.length != ChunkId.LENGTH || !ChunkId.of(key).matches(data)) {
      drop(key, entry, false); // a value without its entry, or bytes that rotted
      return;
    }
    append(key, data, false);
  }

  private void moveFile(byte[] key, int size) {
    ChunkId id = ChunkId.of(key);
    byte[] data = size < 0 ? null : files.read(id, size);
    if (data == null || !id.matches(data)) {
      drop(key, Keys.chunkEntry(size), true); // its file is missing, short, long or rotted
      return;
    }
    append(key, data, true);
  }

  private void append(byte[] key, byte[] data, boolean fromFile) {
    Segments.Location at = segments.append(UnsafeByteOperations.unsafeWrap(data));
    group.add(new Moved(key, data.length, at, fromFile));
    groupBytes += data.length;
    if (groupBytes >= GROUP_BYTES) {
      commit();
    }
  }

  /** Makes the group's new bytes durable, switches its entries (synced), then frees the old. */
  private void commit() {
    if (group.isEmpty()) {
      return;
    }
    segments.sync();
    Batch b = new Batch();
    for (Moved m : group) {
      b.put(Cf.CHUNK_INDEX, m.key, Keys.segmentEntry(m.size, m.at.segment(), m.at.offset()));
      if (!m.fromFile) {
        b.delete(Cf.CHUNKS, m.key);
      }
    }
    db.write(b, true);
    for (Moved m : group) {
      segments.get(m.at.segment()).live.addAndGet(m.size);
      if (m.fromFile) {
        files.delete(ChunkId.of(m.key));
      }
      moved++;
      movedBytes += m.size;
      sinceCompact += m.size;
    }
    group.clear();
    groupBytes = 0;
    if (sinceCompact >= COMPACT_EVERY_BYTES) {
      db.compact(Cf.CHUNKS);
      sinceCompact = 0;
    }
  }

  private void drop(byte[] key, byte[] entry, boolean fromFile) {
    db.write(new Batch().delete(Cf.CHUNKS, key).delete(Cf.CHUNK_INDEX, key), true);
    if (fromFile) {
      files.delete(ChunkId.of(key));
    }
    if (entry != null && entry.length >= 4) {
      dropped++;
      droppedBytes += Keys.decodeInt(entry);
    }
  }

  private boolean hasFanOutDirs() {
    for (int p = 0; p < 256; p++) {
      if (Files.isDirectory(files.root().resolve(String.format("%02x", p)))) {
        return true;
      }
    }
    return false;
  }

  /** Every chunk left the files: what remains there is orphans of interrupted puts. */
  private void deleteFanOutDirs() {
    for (int p = 0; p < 256; p++) {
      Path d = files.root().resolve(String.format("%02x", p));
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(d)) {
        for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(x);
        }
      } catch (IOException e) {
        log.warn("{}: cannot delete an old chunk file directory: {}", d, e.toString());
      }
    }
  }

  /** Up to {@link #WINDOW} keys of {@code cf} after {@code from}. */
  private List<byte[]> window(Cf cf, byte[] from) {
    List<byte[]> keys = new ArrayList<>();
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(cf, from);
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
