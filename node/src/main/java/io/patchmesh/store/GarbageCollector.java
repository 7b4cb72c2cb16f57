package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Cf;
import io.patchmesh.trust.ManifestId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.RocksIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes room: keeps the newest {@link StoreConfig#retainedVersionsPerChannel()} manifests of
 * each channel plus any pinned ones, drops the rest, then deletes every chunk that no remaining
 * manifest references.
 *
 * <p>Chunks are only ever deleted through {@link ChunkStore#delete}. Floors are untouched, so
 * dropping a manifest never reopens the door to its version.
 *
 * <p>A run holds {@link ManifestStore#mutation}, so no manifest is accepted or removed while it
 * decides what is referenced. Chunk puts may run meanwhile: a chunk put for a stored manifest
 * has a ref and stays; a chunk put with no manifest referencing it may be swept (it is not
 * wanted by anything the node keeps), unless a {@link ChunkLeases lease} covers it (a manifest
 * upload in progress): the sweep checks the leases and deletes while holding their monitor.
 */
public final class GarbageCollector {
  private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);
  /** Unreferenced chunks collected per read view, before they are deleted outside it. */
  private static final int SWEEP_WINDOW = 4096;

  private final StoreDb db;
  private final StoreConfig cfg;
  private final ManifestStore manifests;
  private final ChunkStore chunks;
  private final ChunkLeases leases;
  private final AtomicLong runs = new AtomicLong();
  /** {@link #changeCount()} when a quota-triggered run last freed nothing; -1 if never. */
  private long fruitlessAt = -1;

  GarbageCollector(StoreDb db, StoreConfig cfg, ManifestStore manifests, ChunkStore chunks, ChunkLeases leases) {
    this.db = db;
    this.cfg = cfg;
    this.manifests = manifests;
    this.chunks = chunks;
    this.leases = leases;
  }

  /** Runs retention and the chunk sweep; {@code pinned} manifests are kept whatever their age. */
  public GcStats collect(Set<ManifestId> pinned) {
    long start = System.nanoTime();
    manifests.mutation.lock();
    try {
      runs.incrementAndGet();
      int manifestsRemoved = 0;
      for (StoredManifest old : beyondRetention(pinned)) {
        if (manifests.remove(old.id())) {
          manifestsRemoved++;
        }
      }
      long legacyBefore = chunks.legacyDeletes();
      long[] removed = sweepUnreferencedChunks();
      // Chunk files are gone once deleted; only chunks still in the column family (a store
      // whose migration into files has not finished) leave blob files to compact away.
      if (chunks.legacyDeletes() > legacyBefore && cfg.compactAfterGc()) {
        db.compact(Cf.CHUNKS);
      }
      GcStats stats = new GcStats(manifestsRemoved, removed[0], removed[1], chunks.count(),
          chunks.storedBytes(), Duration.ofNanos(System.nanoTime() - start));
      if (manifestsRemoved > 0 || removed[0] > 0) {
        log.info("gc: removed {} manifests, {} chunks ({} bytes); kept {} chunks ({} bytes)",
            manifestsRemoved, removed[0], removed[1], stats.chunksKept(), stats.bytesKept());
      }
      return stats;
    } finally {
      manifests.mutation.unlock();
      if (!manifests.mutation.isHeldByCurrentThread()) {
        chunks.compactSegments(SegmentCompactor.BUDGET_BYTES); // bounded; outside the lock, so accepts need not wait for it
      }
    }
  }

  /** How many GC runs this store did since it was opened. */
  public long runs() {
    return runs.get();
  }

  /**
   * A GC on behalf of a put that does not fit the quota. Skipped if an earlier such run freed
   * nothing and no manifest or chunk was added or removed since: when every stored chunk is
   * wanted, each refused put would otherwise rescan the whole store.
   */
  void collectForRoom(Set<ManifestId> pinned) {
    manifests.mutation.lock();
    try {
      long now = changeCount();
      if (now == fruitlessAt) {
        return;
      }
      GcStats stats = collect(pinned);
      if (stats.manifestsRemoved() == 0 && stats.chunksRemoved() == 0) {
        fruitlessAt = changeCount();
      }
    } finally {
      manifests.mutation.unlock();
    }
  }

  private long changeCount() {
    return manifests.changes() + chunks.newPuts() + leases.changes();
  }

  /** Manifests that are neither among their channel's newest N nor pinned. */
  private List<StoredManifest> beyondRetention(Set<ManifestId> pinned) {
    Map<String, Integer> seen = new HashMap<>();
    List<StoredManifest> drop = new ArrayList<>();
    for (StoredManifest m : manifests.list()) { // newest first within a channel
      int rank = seen.merge(m.channel(), 1, Integer::sum);
      if (rank > cfg.retainedVersionsPerChannel() && !pinned.contains(m.id())) {
        drop.add(m);
      }
    }
    return drop;
  }

  /**
   * Walks the chunk index in key order and looks up each chunk's first ref (refs are keyed
   * chunk id + manifest id, so a prefix seek answers "referenced at all?"). Deletes happen in
   * windows outside the read view, because a delete may need to reopen the database.
   *
   * @return {chunks removed, bytes removed}
   */
  private long[] sweepUnreferencedChunks() {
    long chunksRemoved = 0;
    long bytesRemoved = 0;
    byte[] from = null;
    while (true) {
      List<ChunkId> unreferenced = new ArrayList<>();
      byte[] last = null;
      try (StoreDb.View view = db.view()) {
        RocksIterator index = view.iterator(Cf.CHUNK_INDEX, from);
        RocksIterator refs = view.iterator(Cf.REFS, null);
        if (from != null && index.isValid() && Arrays.equals(index.key(), from)) {
          index.next(); // already handled in the previous window
        }
        for (; index.isValid() && unreferenced.size() < SWEEP_WINDOW; index.next()) {
          byte[] chunk = index.key();
          last = chunk;
          refs.seek(chunk);
          boolean referenced =
              refs.isValid() && Keys.startsWith(refs.key(), chunk, ChunkId.LENGTH);
          if (!referenced) {
            unreferenced.add(ChunkId.of(chunk));
          }
        }
        view.check(index);
        view.check(refs);
      }
      synchronized (leases) {
        for (ChunkId id : unreferenced) {
          if (leases.holds(id)) {
            continue; // uploaded for a manifest not stored yet
          }
          long size = chunks.delete(id);
          if (size >= 0) {
            chunksRemoved++;
            bytesRemoved += size;
          }
        }
      }
      if (unreferenced.size() < SWEEP_WINDOW) {
        return new long[] {chunksRemoved, bytesRemoved};
      }
      from = last;
    }
  }
}
