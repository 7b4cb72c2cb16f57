package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;

/**
 * Someone announced a manifest this node has not verified. The driver fetches the signed manifest
 * from {@code from}, verifies it and only then calls {@link Membership#announce(Announce)}: what
 * fails verification is never spread, because nothing is re-broadcast merely for being heard.
 */
public record AnnouncementHeard(NodeId from, Announce announce) implements MeshEvent {}
