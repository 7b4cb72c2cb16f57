package io.patchmesh.content;

import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;

/**
 * Where each chunk of a manifest lands: for chunk index {@code c}, every (file index, byte offset)
 * at which its bytes occur. A chunk may occur in several files and several times within one file;
 * offsets follow from the sizes of the chunks before it in the file's chunk list.
 *
 * <p>Stored flat (compressed rows: one start per chunk into two parallel arrays), so a manifest of
 * many thousand chunks costs a few ints per occurrence. Assumes a manifest already checked by
 * {@link FileAssembler} (indices in range).
 */
public final class ChunkPlacement {
  private final int[] start; // occurrences of chunk c are [start[c], start[c + 1])
  private final int[] file;
  private final long[] offset;

  private ChunkPlacement(int[] start, int[] file, long[] offset) {
    this.start = start;
    this.file = file;
    this.offset = offset;
  }

  public static ChunkPlacement of(Manifest m) {
    int chunks = m.getChunksCount();
    int[] start = new int[chunks + 1];
    for (FileEntry f : m.getFilesList()) {
      for (int c : f.getChunkIndexList()) {
        start[c + 1]++;
      }
    }
    for (int c = 0; c < chunks; c++) {
      start[c + 1] += start[c];
    }
    int[] fill = java.util.Arrays.copyOf(start, chunks);
    int[] file = new int[start[chunks]];
    long[] offset = new long[start[chunks]];
    for (int fi = 0; fi < m.getFilesCount(); fi++) {
      long pos = 0;
      for (int c : m.getFiles(fi).getChunkIndexList()) {
        int k = fill[c]++;
        file[k] = fi;
        offset[k] = pos;
        pos += m.getChunks(c).getSize();
      }
    }
    return new ChunkPlacement(start, file, offset);
  }

  /** Number of chunk indices (the manifest's chunk count). */
  public int chunkCount() {
    return start.length - 1;
  }

  /** How many times chunk {@code c} occurs across all files (0 for a chunk no file uses). */
  public int occurrences(int c) {
    return start[c + 1] - start[c];
  }

  /** File index of the {@code k}-th occurrence of chunk {@code c}. */
  public int file(int c, int k) {
    return file[start[c] + k];
  }

  /** Byte offset within its file of the {@code k}-th occurrence of chunk {@code c}. */
  public long offset(int c, int k) {
    return offset[start[c] + k];
  }
}
