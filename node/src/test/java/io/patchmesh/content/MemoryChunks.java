package io.patchmesh.content;

import java.util.HashMap;
import java.util.Map;

/** Chunks in a map: a sink while building, a source while assembling. */
final class MemoryChunks implements ChunkSink, ChunkSource {
  final Map<ChunkId, byte[]> chunks = new HashMap<>();

  @Override
  public void accept(ChunkId id, byte[] buf, int off, int len) {
    byte[] copy = new byte[len];
    System.arraycopy(buf, off, copy, 0, len);
    chunks.put(id, copy);
  }

  @Override
  public byte[] read(ChunkId id) throws MissingChunkException {
    byte[] b = chunks.get(id);
    if (b == null) {
      throw new MissingChunkException(id, "no chunk " + id);
    }
    return b.clone();
  }
}
