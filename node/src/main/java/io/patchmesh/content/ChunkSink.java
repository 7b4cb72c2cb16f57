package io.patchmesh.content;

import java.io.IOException;

/**
 * Receives chunks as they are cut and hashed.
 *
 * <p>Ownership: {@code buf[off, off+len)} belongs to the caller and is reused as
 * soon as {@code accept} returns; a sink that keeps the bytes must copy them.
 * Calls for one stream arrive in stream order and never concurrently, but not
 * necessarily on the thread that started the chunking.
 */
@FunctionalInterface
public interface ChunkSink {
  void accept(ChunkId id, byte[] buf, int off, int len) throws IOException;

  /** Discards every chunk (for counting and benchmarks). */
  ChunkSink DISCARD = (id, buf, off, len) -> {};
}
