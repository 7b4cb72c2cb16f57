package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Chunks that garbage collection must keep although no stored manifest references them yet:
 * the chunks of a manifest whose upload is in progress (the seed's publish API stores chunks
 * before the manifest that references them). Each lease belongs to an owner (an upload session)
 * and lasts until its owner releases it or, at the latest, until {@link #expire} passes its end,
 * so an abandoned upload's chunks are collected in the end.
 *
 * <p>Thread-safe. The sweep decides and deletes while holding this object's monitor, so a lease
 * granted before a chunk is looked up ({@code has}) cannot lose that chunk to a sweep already
 * under way.
 */
public final class ChunkLeases {
  private record Lease(Set<ChunkId> chunks, Instant until) {}

  private final Map<Object, Lease> byOwner = new HashMap<>();
  private long changes;

  /**
   * Grants {@code owner} a lease on {@code chunks} until {@code until}, replacing its previous one.
   * The set is kept, not copied: the caller must not change it afterwards.
   */
  public synchronized void grant(Object owner, Set<ChunkId> chunks, Instant until) {
    byOwner.put(Objects.requireNonNull(owner), new Lease(Collections.unmodifiableSet(chunks), Objects.requireNonNull(until)));
    changes++;
  }

  /** Moves the end of {@code owner}'s lease to {@code until}; false if it holds none (released or expired). */
  public synchronized boolean renew(Object owner, Instant until) {
    Lease l = byOwner.get(owner);
    if (l == null) {
      return false;
    }
    byOwner.put(owner, new Lease(l.chunks(), Objects.requireNonNull(until)));
    return true;
  }

  /** Ends {@code owner}'s lease (its manifest was stored, or its upload was dropped). */
  public synchronized void release(Object owner) {
    if (byOwner.remove(owner) != null) {
      changes++;
    }
  }

  /** Ends every lease whose end is at or before {@code now}; returns how many ended. */
  public synchronized int expire(Instant now) {
    int before = byOwner.size();
    byOwner.values().removeIf(l -> !now.isBefore(l.until()));
    int ended = before - byOwner.size();
    changes += ended;
    return ended;
  }

  /** Whether a current lease covers {@code id}. */
  public synchronized boolean holds(ChunkId id) {
    for (Lease l : byOwner.values()) {
      if (l.chunks().contains(id)) {
        return true;
      }
    }
    return false;
  }

  /** Leases held now. */
  public synchronized int size() {
    return byOwner.size();
  }

  /** Grants, releases and expiries so far (GC uses it to tell whether a rescan can free anything). */
  synchronized long changes() {
    return changes;
  }
}
