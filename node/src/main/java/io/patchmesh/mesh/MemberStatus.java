package io.patchmesh.mesh;

import io.patchmesh.proto.MemberState;

/** What one node believes about a member. Names match the CLI's {@code alive | suspect | dead | left}. */
public enum MemberStatus {
  ALIVE,
  SUSPECT,
  DEAD,
  LEFT;

  /** Alive or suspect: still probed, gossiped to and counted in N. */
  public boolean isLive() {
    return this == ALIVE || this == SUSPECT;
  }

  public MemberState toWire() {
    return switch (this) {
      case ALIVE -> MemberState.MEMBER_ALIVE;
      case SUSPECT -> MemberState.MEMBER_SUSPECT;
      case DEAD -> MemberState.MEMBER_DEAD;
      case LEFT -> MemberState.MEMBER_LEFT;
    };
  }

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
