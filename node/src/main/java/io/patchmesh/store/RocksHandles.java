package io.patchmesh.store;

import io.patchmesh.store.StoreDb.Cf;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.MutableColumnFamilyOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksObject;
import org.rocksdb.WriteOptions;

/**
 * Native objects of one open RocksDB ({@link StoreDb}'s): the database, its column families, write
 * options and the options objects they were opened with; closed together.
 */
final class RocksHandles {
  final RocksDB db;
  final Map<Cf, ColumnFamilyHandle> cfs;
  final WriteOptions syncWrite;
  final WriteOptions plainWrite;
  final List<RocksObject> owned; // options objects: closed after the db

  private RocksHandles(RocksDB db, Map<Cf, ColumnFamilyHandle> cfs, WriteOptions syncWrite,
      WriteOptions plainWrite, List<RocksObject> owned) {
    this.db = db;
    this.cfs = cfs;
    this.syncWrite = syncWrite;
    this.plainWrite = plainWrite;
    this.owned = owned;
  }

  ColumnFamilyHandle cf(Cf cf) {
    return cfs.get(cf);
  }

  /** One block cache for every column family (RocksDB's default is 32 MiB per family). */
  static final long BLOCK_CACHE_BYTES = 4L << 20;

  static RocksHandles open(Path dir, StoreConfig cfg) throws RocksDBException {
    List<RocksObject> owned = new ArrayList<>();
    DBOptions db = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setMaxBackgroundJobs(2)
        .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
        .setKeepLogFileNum(3)
        .setMaxLogFileSize(1 << 20)
        .setBytesPerSync(1 << 20)
        // No statistics dumps into the LOG or the stats column family: a timer that wakes
        // every agent for nothing it uses.
        .setStatsDumpPeriodSec(0)
        .setStatsPersistPeriodSec(0)
        // No fallocate: RocksDB reserves 1.1 x the largest memtable for every new WAL file.
        // That hid a full disk (FullDiskTest: a 16 MiB memtable reserved 17.6 MiB of its 32 MiB
        // tmpfs when the store opened, and the whole patch then went into the reservation),
        // and it makes an idle agent's store look bigger on disk than what it holds.
        .setAllowFAllocate(false);
    owned.add(db);
    Cache blockCache = new LRUCache(BLOCK_CACHE_BYTES);
    owned.add(blockCache);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, small(owned, blockCache)));
    for (Cf cf : Cf.values()) {
      ColumnFamilyOptions o = cf == Cf.CHUNKS ? chunkOptions(cfg, owned, blockCache) : small(owned, blockCache);
      descriptors.add(new ColumnFamilyDescriptor(cf.diskName.getBytes(), o));
    }
    List<ColumnFamilyHandle> opened = new ArrayList<>();
    RocksDB rocks;
    try {
      rocks = RocksDB.open(db, dir.toString(), descriptors, opened);
    } catch (RocksDBException e) {
      owned.forEach(RocksObject::close);
      throw e;
    }
    Map<Cf, ColumnFamilyHandle> cfs = new EnumMap<>(Cf.class);
    for (Cf cf : Cf.values()) {
      cfs.put(cf, opened.get(cf.ordinal() + 1)); // 0 is "default", unused
    }
    owned.add(0, opened.get(0));
    WriteOptions sync = new WriteOptions().setSync(true);
    WriteOptions plain = new WriteOptions().setSync(cfg.syncChunkWrites());
    owned.add(sync);
    owned.add(plain);
    return new RocksHandles(rocks, cfs, sync, plain, owned);
  }

  /** Chunks: BlobDB, no compression (content is often compressed already). */
  private static ColumnFamilyOptions chunkOptions(StoreConfig cfg, List<RocksObject> owned, Cache blockCache) {
    ColumnFamilyOptions o = new ColumnFamilyOptions()
        .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache))
        .setWriteBufferSize(cfg.chunkWriteBufferBytes())
        .setCompressionType(CompressionType.NO_COMPRESSION)
        .setEnableBlobFiles(true)
        .setMinBlobSize(cfg.minBlobBytes())
        .setBlobFileSize(64L << 20)
        .setBlobCompressionType(CompressionType.NO_COMPRESSION)
        // Deleted chunks leave garbage in blob files; live blobs are relocated out of the
        // oldest files only by compact() after a GC (blobGc): on in every compaction, it
        // rewrote chunks just stored: ~110 MB during a 128 MiB rollout (BENCHMARKS section 13d).
        .setEnableBlobGarbageCollection(false)
        .setBlobGarbageCollectionAgeCutoff(0.5)
        .setBlobGarbageCollectionForceThreshold(0.5);
    owned.add(o);
    return o;
  }

  static MutableColumnFamilyOptions blobGc(boolean on) {
    return MutableColumnFamilyOptions.builder().setEnableBlobGarbageCollection(on).build();
  }

  /**
   * Index, manifests, refs, state: small values; LZ4 keeps SSTs small at little CPU. 1 MiB
   * memtables: an agent writes a few KiB here per rollout, so larger ones only hold memory
   * (they were 4 MiB each, five of them).
   */
  private static ColumnFamilyOptions small(List<RocksObject> owned, Cache blockCache) {
    ColumnFamilyOptions o = new ColumnFamilyOptions()
        .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache))
        .setWriteBufferSize(1L << 20)
        .setCompressionType(CompressionType.LZ4_COMPRESSION);
    owned.add(o);
    return o;
  }

  void close() {
    cfs.values().forEach(ColumnFamilyHandle::close);
    // RocksHandles first, then the db, then options (RocksJava requires this order).
    RocksObject defaultCf = owned.get(0);
    defaultCf.close();
    db.close();
    for (int i = 1; i < owned.size(); i++) {
      owned.get(i).close();
    }
  }
}
