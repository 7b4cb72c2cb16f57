package io.patchmesh.mesh;

/**
 * A member changed state in this node's view. {@code oldState} is {@code null} for a member this
 * node had not known (or had forgotten).
 */
public record MemberEvent(Member member, MemberStatus oldState, MemberStatus newState)
    implements MeshEvent {}
