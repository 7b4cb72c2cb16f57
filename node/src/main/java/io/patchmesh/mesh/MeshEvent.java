package io.patchmesh.mesh;

/** What {@link Membership} tells its driver; drained with {@link Membership#pollEvent()}. */
public sealed interface MeshEvent permits MemberEvent, AnnouncementHeard {}
