package io.patchmesh.store;

import io.patchmesh.content.ChunkId;

/**
 * Bytes offered as a chunk do not hash to the chunk's id. Nothing was stored. The transfer layer
 * treats this as the sender's fault (penalize, fetch elsewhere).
 */
public final class CorruptChunkException extends RuntimeException {
  private final ChunkId expected;
  private final int length;

  public CorruptChunkException(ChunkId expected, int length) {
    super("chunk " + expected.shortHex() + ": " + length + " bytes do not hash to its id");
    this.expected = expected;
    this.length = length;
  }

  public ChunkId expected() {
    return expected;
  }

  public int length() {
    return length;
  }
}
