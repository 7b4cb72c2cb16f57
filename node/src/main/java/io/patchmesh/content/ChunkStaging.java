package io.patchmesh.content;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A manifest's files written while its chunks arrive, handed to the apply at completion: temp
 * files in the apply dir ({@link StagingWriter}) or the store's own file segments, hard-linked in
 * at the end ({@code store.FileStaging}). Either way the caller hands in only verified chunk bytes,
 * and nothing is switched in before {@link #verify} has read back every file and matched its size
 * and whole-file SHA-256 against the manifest.
 */
public interface ChunkStaging extends AutoCloseable {
  /** Whether chunk {@code c} is already in the files. */
  boolean has(int c);

  /** Chunks still to be written before {@link #verify} can succeed. */
  int missing();

  /**
   * Writes chunk {@code c} (verified bytes, its remaining ones) at each place it occurs; a chunk already
   * written is skipped.
   *
   * @throws AssemblyException if the bytes do not have the manifest's size for the chunk
   */
  void write(int c, ByteBuffer bytes) throws IOException;

  /** {@link #write(int, ByteBuffer)} from an array. */
  default void write(int c, byte[] bytes) throws IOException {
    write(c, ByteBuffer.wrap(bytes));
  }

  /** {@link #write(int, ByteBuffer)} from bytes held as a ByteString (a received piece's): not copied first. */
  default void write(int c, ByteString bytes) throws IOException {
    write(c, bytes.asReadOnlyByteBuffer());
  }

  /**
   * Verifies every file against the manifest and returns them as temp files in the apply dir for
   * the caller to switch in. {@link #close} still removes whichever were not renamed away.
   *
   * @throws AssemblyException if chunks are missing or a file does not verify; targets untouched
   */
  List<FileAssembler.Staged> verify() throws IOException;

  /** Ends the staging; temp files in the apply dir that were not switched in are deleted. */
  @Override
  void close() throws IOException;
}
