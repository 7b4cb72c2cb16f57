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
    return r;
  }

  void changed() {
    wire = null;
  }

  MemberUpdate toWire() {
    if (wire == null) {
      wire = info.toWire(incarnation, status).build();
    }
    return wire;
  }

  Member snapshot() {
    return new Member(info, incarnation, status);
  }
}
