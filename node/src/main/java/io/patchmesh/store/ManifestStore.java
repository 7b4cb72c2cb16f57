package io.patchmesh.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FloorReset;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksIterator;

/**
 * Verified signed manifests, the chunk references they hold, and the per-channel version floor.
 *
 * <p>Only a {@link VerifiedManifest} can be accepted, so everything stored here passed the trust
 * checks once. Reads hand back the signed envelope; a caller that needs a {@code
 * VerifiedManifest} again verifies it again (the trust root may have changed since).
 *
 * <p>The floor only rises: {@link #remove} and GC drop manifests but never lower it, so a node
 * that once accepted v7 of a channel rejects v6 forever, across restarts. The one exception is
 * a floor reset carried by a signed trust root ({@link #applyFloorResets}): authorised by the
 * root keys, applied once per root version.
 *
 * <p>Thread-safe. Changes (accept, remove, GC) are serialized by {@link #mutation}.
 */
public final class ManifestStore implements VersionFloor {
  private final StoreDb db;
  private final Clock clock;
  /** Held by accept, remove and the whole GC, so GC never sees refs change under it. */
  final ReentrantLock mutation = new ReentrantLock();
  /** Accepts and removes so far; lets a quota GC tell whether retention could change. */
  private final AtomicLong changes = new AtomicLong();

  ManifestStore(StoreDb db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /**
   * Stores a verified manifest: its signed bytes, its record, a ref for each of its chunks and
   * the raised channel floor, in one synced batch (durable before this returns).
   *
   * @return false if this manifest was already stored (nothing changes)
   */
  public boolean accept(VerifiedManifest vm) {
    ManifestId id = vm.id();
    Manifest m = vm.manifest();
    byte[] signed = vm.signed().toByteArray();
    mutation.lock();
    try {
      if (db.get(Cf.MANIFESTS, Keys.manifestInfo(id)) != null) {
        return false;
      }
      StoredManifest record = new StoredManifest(id, vm.channel(), vm.version(), signed.length,
          m.getLimits().getTotalBytes(), m.getChunksCount(), m.getFilesCount(), clock.instant());
      Batch batch = new Batch()
          .put(Cf.MANIFESTS, Keys.signedManifest(id), signed)
          .put(Cf.MANIFESTS, Keys.manifestInfo(id), record.encode());
      long floor = highestAccepted(vm.channel());
      if (vm.version() > floor) {
        batch.put(Cf.STATE, Keys.floor(vm.channel()), Keys.encodeLong(vm.version()));
      }
      byte[] empty = new byte[0];
      for (ChunkRef ref : m.getChunksList()) {
        batch.put(Cf.REFS, Keys.ref(ChunkId.of(ref.getId()), id), empty);
      }
      db.write(batch, true);
      changes.incrementAndGet();
      return true;
    } finally {
      mutation.unlock();
    }
  }

  /**
   * Applies the floor resets of {@code root}, once: if no root of this version or newer was
   * applied before, each reset lowers its channel's floor to {@code min(floor, at_most_version)}
   * (never raises it; 0 forgets it), drops the channel's stored manifests above that version
   * (so they are neither resumed, applied nor served as newest), and records the root version,
   * all in one synced batch. A root at or below the recorded version (an old {@code root.pb}
   * put back) changes nothing, so it cannot lower floors that rose since.
   *
   * <p>Called whenever a node loads a trust root, resets or not, so the recorded version
   * always follows the newest root loaded.
   */
  public AppliedFloorResets applyFloorResets(TrustedRoot root) {
    mutation.lock();
    try {
      byte[] recorded = db.get(Cf.STATE, Keys.FLOOR_RESETS_ROOT);
      if (recorded != null && Keys.decodeLong(recorded) >= root.version()) {
        return new AppliedFloorResets(root.version(), false, Map.of(), List.of());
      }
      Batch batch = new Batch().put(Cf.STATE, Keys.FLOOR_RESETS_ROOT, Keys.encodeLong(root.version()));
      Map<String, Long> lowered = new LinkedHashMap<>();
      List<StoredManifest> dropped = new ArrayList<>();
      List<StoredManifest> stored = root.floorResets().isEmpty() ? List.of() : list();
      for (FloorReset reset : root.floorResets()) {
        String channel = reset.getChannel();
        long atMost = reset.getAtMostVersion();
        if (highestAccepted(channel) > atMost) {
          if (atMost == 0) {
            batch.delete(Cf.STATE, Keys.floor(channel));
          } else {
            batch.put(Cf.STATE, Keys.floor(channel), Keys.encodeLong(atMost));
          }
          lowered.put(channel, atMost);
        }
        for (StoredManifest sm : stored) {
          if (sm.channel().equals(channel) && sm.version() > atMost) {
            deleteInto(batch, sm.id());
            dropped.add(sm);
          }
        }
      }
      db.write(batch, true);
      if (!dropped.isEmpty()) {
        changes.incrementAndGet();
      }
      return new AppliedFloorResets(root.version(), true, Map.copyOf(lowered), List.copyOf(dropped));
    } finally {
      mutation.unlock();
    }
  }

  /** The signed manifest as accepted, if stored. */
  public Optional<SignedManifest> get(ManifestId id) {
    byte[] bytes = db.get(Cf.MANIFESTS, Keys.signedManifest(id));
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(SignedManifest.parseFrom(bytes));
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("manifest " + id.shortHex() + ": stored bytes do not parse", e);
    }
  }

  public boolean contains(ManifestId id) {
    return db.get(Cf.MANIFESTS, Keys.manifestInfo(id)) != null;
  }

  /** The stored record of one manifest. */
  public Optional<StoredManifest> info(ManifestId id) {
    byte[] value = db.get(Cf.MANIFESTS, Keys.manifestInfo(id));
    return value == null ? Optional.empty() : Optional.of(StoredManifest.decode(id, value));
  }

  /** Every stored manifest, by channel, newest version first within a channel. */
  public List<StoredManifest> list() {
    List<StoredManifest> out = new ArrayList<>();
    try (StoreDb.View view = db.view()) {
      RocksIterator it = view.iterator(Cf.MANIFESTS, Keys.INFO_PREFIX);
      for (; it.isValid() && it.key()[0] == Keys.INFO; it.next()) {
        out.add(StoredManifest.decode(Keys.manifestIdOfInfoKey(it.key()), it.value()));
      }
      view.check(it);
    }
    out.sort(Comparator.comparing(StoredManifest::channel)
        .thenComparing(Comparator.comparingLong(StoredManifest::version).reversed())
        .thenComparing(Comparator.comparing(StoredManifest::storedAt).reversed()));
    return out;
  }

  /** The stored manifest with the highest version in {@code channel}. */
  public Optional<StoredManifest> newest(String channel) {
    return list().stream().filter(s -> s.channel().equals(channel)).findFirst();
  }

  /** Highest version ever accepted for {@code channel} (0 if none); survives removal and GC. */
  @Override
  public long highestAccepted(String channel) {
    byte[] v = db.get(Cf.STATE, Keys.floor(channel));
    return v == null ? 0 : Keys.decodeLong(v);
  }

  /**
   * Drops a manifest and its chunk refs (synced). Its chunks stay until GC finds them
   * unreferenced. The channel floor is left as it is.
   *
   * @return false if it was not stored
   */
  public boolean remove(ManifestId id) {
    mutation.lock();
    try {
      if (!contains(id)) {
        return false;
      }
      Batch batch = new Batch();
      deleteInto(batch, id);
      db.write(batch, true);
      changes.incrementAndGet();
      return true;
    } finally {
      mutation.unlock();
    }
  }

  /** Adds the deletion of a stored manifest, its record and its chunk refs to {@code batch}. */
  private void deleteInto(Batch batch, ManifestId id) {
    batch.delete(Cf.MANIFESTS, Keys.signedManifest(id)).delete(Cf.MANIFESTS, Keys.manifestInfo(id));
    Optional<SignedManifest> signed = get(id);
    if (signed.isPresent()) {
      for (ChunkId chunk : chunkIds(id, signed.get())) {
        batch.delete(Cf.REFS, Keys.ref(chunk, id));
      }
    }
  }

  long changes() {
    return changes.get();
  }

  private static List<ChunkId> chunkIds(ManifestId id, SignedManifest signed) {
    try {
      Manifest m = Manifest.parseFrom(signed.getManifest());
      List<ChunkId> ids = new ArrayList<>(m.getChunksCount());
      for (ChunkRef ref : m.getChunksList()) {
        ids.add(ChunkId.of(ref.getId()));
      }
      return ids;
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("manifest " + id.shortHex() + ": stored bytes do not parse", e);
    }
  }
}
