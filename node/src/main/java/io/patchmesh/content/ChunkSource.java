package io.patchmesh.content;

import java.io.IOException;

/** Where assembly gets chunk bytes from: a bundle, the node's store. */
@FunctionalInterface
public interface ChunkSource {
  /**
   * The bytes of chunk {@code id}. The caller owns the returned array.
   *
   * @throws MissingChunkException if this source does not have the chunk
   * @throws CorruptChunkException if the stored bytes do not hash to {@code id}
   *     (sources that verify on read)
   */
  byte[] read(ChunkId id) throws IOException;
}
