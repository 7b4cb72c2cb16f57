package io.patchmesh.content;

import java.io.IOException;
import io.patchmesh.trust.Sha256Digest;

/** A buffer plus the chunks cut in it. */
final class CutBlock {
  byte[] buf; // its own buffer, or the caller's array for in-place chunking
  final int[] offsets;
  final int[] lengths;
  int count;
  byte[] digests; // in-place pipeline only: chunk digests computed by the cutter

  CutBlock(int size, int maxChunks) {
    buf = new byte[size];
    offsets = new int[maxChunks];
    lengths = new int[maxChunks];
  }

  void add(int off, int len) {
    offsets[count] = off;
    lengths[count] = len;
    count++;
  }

  /** Hashes every chunk of a cut block and hands it to the sink. */
  static void hash(CutBlock block, Sha256Digest md, byte[] digest, ChunkSink sink)
      throws IOException {
    for (int i = 0; i < block.count; i++) {
      int off = block.offsets[i];
      int len = block.lengths[i];
      md.update(block.buf, off, len);
      digestInto(md, digest, 0);
      sink.accept(ChunkId.of(digest), block.buf, off, len);
    }
  }

  /** Rethrows what the hashing thread recorded (nothing if null), unchecked ones as they are. */
  static void rethrow(Throwable t) throws IOException {
    if (t == null) {
      return;
    }
    if (t instanceof IOException e) {
      throw e;
    }
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IOException("chunk hashing failed", t);
  }

  static void digestInto(Sha256Digest md, byte[] out, int at) {
    md.digest(out, at);
  }
}
