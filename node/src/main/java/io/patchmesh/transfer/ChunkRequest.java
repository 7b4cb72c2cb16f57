package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;

/**
 * A request for chunk {@code chunk} (manifest chunk index) sent to {@code peer}. The picker hands
 * these out to cancel; the caller maps them to its wire request ids.
 */
public record ChunkRequest(NodeId peer, int chunk) {}
