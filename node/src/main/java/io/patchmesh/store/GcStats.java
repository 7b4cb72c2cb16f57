package io.patchmesh.store;

import java.time.Duration;

/**
 * What one GC run did.
 *
 * @param manifestsRemoved manifests beyond retention that were dropped
 * @param chunksRemoved chunks no retained manifest referenced, deleted
 * @param bytesRemoved bytes of those chunks
 * @param chunksKept chunks still stored afterwards
 * @param bytesKept bytes still stored afterwards
 * @param took wall time of the run
 */
public record GcStats(
    int manifestsRemoved,
    long chunksRemoved,
    long bytesRemoved,
    long chunksKept,
    long bytesKept,
    Duration took) {}
