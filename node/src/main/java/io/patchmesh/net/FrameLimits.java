package io.patchmesh.net;

/** Hard bounds of the wire protocol that every connection enforces (see wire.proto). */
public final class FrameLimits {
  /**
   * Largest frame body (the bytes after the 4-byte length): one 256 KiB Piece or
   * ManifestPart with plenty of room, or a full batch of membership updates. A
   * peer that announces a longer frame is disconnected before we buffer it.
   */
  public static final int MAX_FRAME_BYTES = 1024 * 1024 + 64 * 1024;

  /** Bytes of the length prefix in front of every frame. */
  public static final int LENGTH_PREFIX_BYTES = 4;

  private FrameLimits() {}
}
