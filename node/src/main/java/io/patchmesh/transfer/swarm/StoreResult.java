package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import java.util.List;

/**
 * How a {@link SwarmAction.StoreChunk} ended, as the driver reports it to {@link Fetching#onStored}.
 *
 * @param kind what happened
 * @param detail why it failed (null when stored)
 * @param missingBases delta bases the store no longer holds (dropped as corrupt on read, or
 *     collected): whatever the outcome, we stop advertising them
 */
public record StoreResult(Kind kind, String detail, List<ChunkId> missingBases) {
  public enum Kind {
    /** Verified and stored. */
    STORED,
    /** A bad delta, or bytes that do not hash to the chunk's id: the sender's fault. */
    CORRUPT,
    /** The store refused it for lack of room: our side, fetching backs off. */
    FULL,
    /** A delta that did not decode because a base of ours is gone: our fault, asked again in full. */
    BASE_GONE
  }

  public StoreResult {
    missingBases = List.copyOf(missingBases);
  }

  public static StoreResult stored(List<ChunkId> missingBases) {
    return new StoreResult(Kind.STORED, null, missingBases);
  }
}
