package io.patchmesh.content;

/**
 * Bytes offered or read as a chunk do not hash to the chunk's id (damaged, tampered with, or sent
 * by a lying peer). The one such exception of the code base: the store throws it from {@code put}
 * (nothing was stored; the transfer layer treats it as the sender's fault), bundle readers from
 * {@code read}. Unchecked, so the store's callers (many, most of which hash nothing themselves)
 * are not made to declare it; whoever can tell a user or a peer about it catches it by name.
 */
public class CorruptChunkException extends RuntimeException {
  private final ChunkId chunkId;

  public CorruptChunkException(ChunkId chunkId, String message) {
    super(message);
    this.chunkId = chunkId;
  }

  /** {@code length} bytes were offered as chunk {@code expected} and do not hash to it. */
  public CorruptChunkException(ChunkId expected, int length) {
    this(expected, "chunk " + expected.shortHex() + ": " + length + " bytes do not hash to its id");
  }

  /** The chunk the bytes were supposed to be. */
  public ChunkId chunkId() {
    return chunkId;
  }
}
