package io.patchmesh.store;

import io.patchmesh.trust.ManifestId;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A node's store: one RocksDB directory holding the index of verified chunks (their bytes in
 * segment files under it, {@link Segments}), accepted manifests with their chunk references and
 * version floors, and small node state. Owns the database; closing it
 * closes everything.
 *
 * <p>One process at a time: a second open of the same directory, from this process or another,
 * fails with {@link StoreLockedException}.
 */
public final class NodeStore implements AutoCloseable {
  private final StoreDb db;
  private final StoreConfig cfg;
  private final ChunkStore chunks;
  private final ManifestStore manifests;
  private final StateStore state;
  private final GarbageCollector collector;
  private final ChunkLeases leases = new ChunkLeases();
  private volatile Supplier<Set<ManifestId>> pins = Set::of;

  private NodeStore(StoreDb db, StoreConfig cfg, Clock clock) {
    this.db = db;
    this.cfg = cfg;
    this.manifests = new ManifestStore(db, clock);
    this.state = new StateStore(db);
    // The quota path of put() runs a GC; only called after construction.
    this.chunks = new ChunkStore(db, cfg, this::gcForRoom);
    this.collector = new GarbageCollector(db, cfg, manifests, chunks, leases);
  }

  /**
   * Opens (creating if needed) the store in {@code dir}.
   *
   * @throws StoreLockedException if another open store holds the directory
   * @throws io.patchmesh.errors.UserInputException if the directory is unusable or not a store
   */
  public static NodeStore open(Path dir, StoreConfig cfg) {
    return open(dir, cfg, Clock.systemUTC());
  }

  public static NodeStore open(Path dir, StoreConfig cfg, Clock clock) {
    Objects.requireNonNull(cfg);
    StoreDb db = StoreDb.open(dir, cfg);
    try {
      return new NodeStore(db, cfg, clock);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  public ChunkStore chunks() {
    return chunks;
  }

  public ManifestStore manifests() {
    return manifests;
  }

  public StateStore state() {
    return state;
  }

  /** Chunks GC keeps although no stored manifest references them yet (uploads in progress). */
  public ChunkLeases leases() {
    return leases;
  }

  public GarbageCollector collector() {
    return collector;
  }

  /**
   * Manifests that GC must keep besides each channel's newest ones (e.g. the applied version).
   * Asked at every GC, including the ones a full quota triggers.
   */
  public void pinWith(Supplier<Set<ManifestId>> pinned) {
    this.pins = Objects.requireNonNull(pinned);
  }

  /** Runs GC with the pins given to {@link #pinWith}. */
  public GcStats gc() {
    return collector.collect(pins.get());
  }

  public GcStats gc(Set<ManifestId> pinned) {
    return collector.collect(pinned);
  }

  private void gcForRoom() {
    collector.collectForRoom(pins.get());
  }

  public Path dir() {
    return db.dir();
  }

  public StoreConfig config() {
    return cfg;
  }

  /**
   * Roughly the disk usage: live RocksDB files (SST + blob) plus the segment files (chunks held
   * and dead bytes not reclaimed yet).
   */
  public long diskBytes() {
    return db.diskBytes() + chunks.segmentBytes();
  }

  /** For tests in this package that need to reach under the verified API. */
  StoreDb db() {
    return db;
  }

  @Override
  public void close() {
    try {
      chunks.close();
    } finally {
      db.close();
    }
  }
}
