package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.MemberUpdate;

/**
 * This node's own statement in the membership ({@link MemberStates}): its incarnation, whether it
 * left, and its signature of what it currently claims. Only this node raises its incarnation
 * (to refute, or to leave), never past {@link MemberStatement#MAX_INCARNATION}.
 */
final class SelfStatement {
  private final MemberInfo info;
  private final MemberAuthority authority;
  private long incarnation;
  private boolean left;
  /** This node's signature of its statement {@code signedClaim} at {@code signedIncarnation}. */
  private ByteString signature;
  private long signedIncarnation = -1;
  private MemberStatus signedClaim;

  SelfStatement(MemberInfo info, MemberAuthority authority, long initialIncarnation) {
    this.info = info;
    this.authority = authority;
    this.incarnation = Math.min(Math.max(0, initialIncarnation), MemberStatement.MAX_INCARNATION);
  }

  long incarnation() {
    return incarnation;
  }

  boolean hasLeft() {
    return left;
  }

  /** What this node claims now: ALIVE, or LEFT once it left. */
  MemberStatus claim() {
    return left ? MemberStatus.LEFT : MemberStatus.ALIVE;
  }

  Member member() {
    return new Member(info, incarnation, claim());
  }

  /** Outbids a claim about this node at {@code inc}: the next incarnation after it. */
  void outbid(long inc) {
    incarnation = MemberStatement.next(inc);
  }

  /** Leaves: LEFT from now on, at a new incarnation. */
  void markLeft() {
    left = true;
    incarnation = MemberStatement.next(incarnation);
  }

  /** The statement {@code claim} at the current incarnation, signed. */
  MemberUpdate.Builder statement(MemberStatus claim) {
    return info.toWire(incarnation, claim).setSignature(signatureOf(claim));
  }

  /** Signed once per incarnation and claim: Ed25519 signatures are deterministic, so a cached one is the same bytes. */
  ByteString signatureOf(MemberStatus claim) {
    if (signature == null || signedIncarnation != incarnation || signedClaim != claim) {
      signature = authority.sign(MemberStatement.of(info, incarnation, claim));
      signedIncarnation = incarnation;
      signedClaim = claim;
    }
    return signature;
  }
}
