package io.patchmesh.seed.exposure;

import java.util.Arrays;

/**
 * One host's installed software as the seed holds it: package-name ids ascending with their
 * version ids (see {@link StringPool}), the agent's generation and digest of it, and the
 * collector's state. Immutable; a delta makes a new one.
 */
record HostSoftware(
    String nodeId, long generation, byte[] digest, int[] names, int[] versions, String source, String error, long updatedMillis) {

  /** The version id of package-name id {@code name}, or -1. */
  int versionOf(int name) {
    int i = Arrays.binarySearch(names, name);
    return i >= 0 ? versions[i] : -1;
  }

  int size() {
    return names.length;
  }

  /** Rough bytes held (two int arrays, the digest, the record). */
  long bytes() {
    return 8L * names.length + 32 + 96;
  }
}
