package io.patchmesh.mesh;

/** A snapshot of one member as this node sees it (self included in {@link Membership#members()}). */
public record Member(MemberInfo info, long incarnation, MemberStatus status) {}
