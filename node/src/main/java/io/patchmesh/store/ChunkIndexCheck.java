package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At open: matches the chunk index against the chunk files and counts what is held. One fan-out
 * directory at a time, as a merge of two sorted streams (the directory's sorted names and the
 * index entries with that first byte), so memory stays one directory's names.
 *
 * <ul>
 *   <li>A file without an index entry is an orphan (a put or a migration interrupted after its
 *       file was written, or a delete after its index entry went): deleted.
 *   <li>An index entry that says "in a file" without its file (a file system that lost it, or
 *       a power loss that undid an unsynced delete of the entry after the file was unlinked):
 *       the entry is deleted, so the chunk reads as absent and is fetched again, never served.
 *   <li>Sizes are not checked here (that would be a stat per chunk): a read finds a file of the
 *       wrong length and drops the chunk (ChunkStore.get).
 * </ul>
 */
final class ChunkIndexCheck {
  private static final Logger log = LoggerFactory.getLogger(ChunkIndexCheck.class);

  /** What the check found. */
  record Result(long count, long bytes, long orphansDeleted, long entriesLost) {}

  private ChunkIndexCheck() {}

  static Result run(StoreDb db, ChunkFiles files) {
    long count = 0;
    long bytes = 0;
    long orphans = 0;
    List<byte[]> lost = new ArrayList<>();
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.CHUNK_INDEX, null);
      for (int prefix = 0; prefix < 256; prefix++) {
        List<String> names = files.list(prefix);
        int n = 0;
        it.seek(new byte[] {(byte) prefix});
        for (; it.isValid() && (it.key()[0] & 0xff) == prefix; it.next()) {
          byte[] value = it.value();
          count++;
          bytes += Keys.decodeInt(value);
          String hex = ChunkId.of(it.key()).hex();
          while (n < names.size() && names.get(n).compareTo(hex) < 0) {
            files.deleteListed(prefix, names.get(n++)); // no entry: an orphan or a stray
            orphans++;
          }
          boolean hasFile = n < names.size() && names.get(n).equals(hex);
          if (hasFile) {
            n++;
          }
          if (Keys.inFile(value) && !hasFile) {
            lost.add(it.key());
            count--;
            bytes -= Keys.decodeInt(value);
          } else if (!Keys.inFile(value) && hasFile) {
            files.deleteListed(prefix, hex); // a migration's copy whose entry was not switched
            orphans++;
          }
        }
        view.check(it);
        for (; n < names.size(); n++) {
          files.deleteListed(prefix, names.get(n));
          orphans++;
        }
      }
    }
    if (!lost.isEmpty()) {
      Batch b = new Batch();
      lost.forEach(k -> b.delete(Cf.CHUNK_INDEX, k));
      db.write(b, true);
      log.warn("{}: {} chunks were indexed but their files are gone; they read as absent and are"
          + " fetched again", db.dir(), lost.size());
    }
    if (orphans > 0) {
      log.info("{}: deleted {} chunk files that no index entry held (an interrupted put or delete)",
          db.dir(), orphans);
    }
    return new Result(count, bytes, orphans, lost.size());
  }
}
