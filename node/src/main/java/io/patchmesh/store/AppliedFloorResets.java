package io.patchmesh.store;

import java.util.List;
import java.util.Map;

/**
 * What {@link ManifestStore#applyFloorResets} did, for the node's log.
 *
 * @param rootVersion the trust root version loaded
 * @param applied false if a root of this version or newer had already been applied (an old
 *     root replayed): nothing changed
 * @param lowered channel → its new floor, for each floor that was above the reset's version
 * @param dropped stored manifests removed because their version was above the new floor
 */
public record AppliedFloorResets(
    long rootVersion, boolean applied, Map<String, Long> lowered, List<StoredManifest> dropped) {

  /** True if any floor moved or any manifest was dropped. */
  public boolean changedAnything() {
    return !lowered.isEmpty() || !dropped.isEmpty();
  }
}
