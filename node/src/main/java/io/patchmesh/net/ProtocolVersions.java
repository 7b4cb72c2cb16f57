package io.patchmesh.net;

import java.util.OptionalInt;

/** The protocol versions this build speaks, and how a pair agrees on one. */
public final class ProtocolVersions {
  public static final int MIN = 1;
  public static final int MAX = 1;

  private ProtocolVersions() {}

  /** The highest version in both ranges, or empty if they do not overlap (or the peer's range is inverted). */
  public static OptionalInt negotiate(int peerMin, int peerMax) {
    int high = Math.min(MAX, peerMax);
    int low = Math.max(MIN, peerMin);
    return peerMin <= peerMax && low <= high ? OptionalInt.of(high) : OptionalInt.empty();
  }
}
