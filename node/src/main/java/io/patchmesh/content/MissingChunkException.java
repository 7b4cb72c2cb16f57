package io.patchmesh.content;

import java.io.IOException;

/** A {@link ChunkSource} does not have a chunk that was asked for. */
public class MissingChunkException extends IOException {
  private final ChunkId chunkId;

  public MissingChunkException(ChunkId chunkId, String message) {
    super(message);
    this.chunkId = chunkId;
  }

  public ChunkId chunkId() {
    return chunkId;
  }
}
