package io.patchmesh.trust;

/**
 * The highest manifest version accepted so far per channel (rollback
 * protection). Implemented durably by the store; in memory for tools that keep
 * no state.
 */
public interface VersionFloor {
  /** Highest accepted version for {@code channel}, or 0 if none. */
  long highestAccepted(String channel);

  /** A floor that has seen nothing (offline verification of a bundle). */
  VersionFloor NONE = channel -> 0L;
}
