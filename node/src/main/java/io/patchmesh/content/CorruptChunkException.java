package io.patchmesh.content;

import java.io.IOException;

/** Stored bytes of a chunk do not hash to its name (damaged or tampered with). */
public class CorruptChunkException extends IOException {
  private final ChunkId chunkId;

  public CorruptChunkException(ChunkId chunkId, String message) {
    super(message);
    this.chunkId = chunkId;
  }

  public ChunkId chunkId() {
    return chunkId;
  }
}
