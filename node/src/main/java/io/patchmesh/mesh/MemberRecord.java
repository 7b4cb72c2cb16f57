package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.MemberUpdate;

/**
 * One member as this node sees it. Mutated only by {@link MemberTable} and {@link Membership};
 * records marked {@code shared} belong to a {@link Roster} and are never mutated (the table copies
 * them first).
 */
final class MemberRecord {
  MemberInfo info;
  long incarnation;
  MemberStatus status;
  /** When {@code status} last changed here; dead and left members are reclaimed from this. */
  long statusSinceMillis;
  /** Running only while SUSPECT. */
  Suspicion suspicion;
  /** Forgotten after {@link MembershipConfig#deadReclaimMillis()}; kept only as a roster override. */
  boolean removed;
  /**
   * The member's own signature over its statement {@code signedClaim} (ALIVE or LEFT) at
   * {@code incarnation} with {@code info}; null if this node has none (a member known only from
   * its link's Hello, or a roster member). Invariant: when set, it verifies for exactly these
   * fields, so the record can be passed on as proof.
   */
  com.google.protobuf.ByteString signature;
  MemberStatus signedClaim = MemberStatus.ALIVE;
  /** The member's verified credential; null for roster members and link-only members. */
  MemberCredential credential;
  /** Index in the table's list of runtime-learned members (for O(1) removal); -1 for roster ones. */
  int listIndex = -1;

  final boolean shared;
  /** The member's id as on the wire: the table's key. */
  final ByteString key;
  /** This record's state as a push-pull entry, built once per change. */
  private MemberUpdate wire;

  private MemberRecord(MemberInfo info, long incarnation, MemberStatus status, boolean shared) {
    this.info = info;
    this.incarnation = incarnation;
    this.status = status;
    this.shared = shared;
    this.key = info.id().toByteString();
  }

  static MemberRecord shared(MemberInfo info) {
    MemberRecord r = new MemberRecord(info, 0, MemberStatus.ALIVE, true);
    r.wire = info.toWire(0, MemberStatus.ALIVE).build();
    return r;
  }

  static MemberRecord of(MemberInfo info, long incarnation, MemberStatus status, long now) {
    MemberRecord r = new MemberRecord(info, incarnation, status, false);
    r.statusSinceMillis = now;
    return r;
  }

  MemberRecord writableCopy() {
    MemberRecord r = new MemberRecord(info, incarnation, status, false);
    r.statusSinceMillis = statusSinceMillis;
    r.signature = signature;
    r.signedClaim = signedClaim;
    r.credential = credential;
    return r;
  }

  void changed() {
    wire = null;
  }

  MemberUpdate toWire() {
    if (wire == null) {
      MemberUpdate.Builder b = info.toWire(incarnation, status);
      if (signature != null) {
        b.setSignature(signature);
      }
      wire = b.build();
    }
    return wire;
  }

  /** As {@link #toWire()}, with the member's credential for a receiver that may not know it. */
  MemberUpdate toWireWithCredential() {
    return credential == null ? toWire() : toWire().toBuilder().setCredential(credential.encoded()).build();
  }

  /**
   * Adds the member's signature of the statement this record holds at {@code u}'s incarnation, so
   * the accused can recognize (and outbid) an incarnation of a former life of its own.
   */
  MemberUpdate.Builder withProof(MemberUpdate.Builder u) {
    if (signature != null && incarnation == u.getIncarnation()
        && (signedClaim == MemberStatus.ALIVE || u.getState() == MemberStatus.LEFT.toWire())) {
      u.setSignature(signature);
    }
    return u;
  }

  Member snapshot() {
    return new Member(info, incarnation, status);
  }
}
