package io.patchmesh.content;

import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A manifest's files written ahead of completion: each chunk, as it becomes available, is written
 * into the temp files of {@link FileAssembler#createStaging} at every offset where it occurs
 * ({@link ChunkPlacement}), in any order, and the temp files are forced every
 * {@code forceEveryBytes} written, so the final fsync has little left. {@link #commit} then
 * verifies and renames them exactly as {@link FileAssembler} does.
 *
 * <p>Invariants: the caller hands in only verified chunk bytes (read from the store, which hashes
 * before it stores); even so nothing is trusted until {@link #commit} has re-read every file and
 * matched its size and whole-file SHA-256 against the manifest. Any exception leaves this writer
 * unusable; {@link #close} then deletes the temp files (and so leaves every target untouched).
 * Not thread-safe: one thread at a time.
 */
public final class StagingWriter implements ChunkStaging {
  /** Default interval of incremental fsyncs. */
  public static final long FORCE_EVERY_BYTES = 32L << 20;

  private final Manifest manifest;
  private final FileAssembler assembler;
  private final ChunkPlacement placement;
  private final List<FileAssembler.Staged> staged;
  private final FileChannel[] channels;
  private final BitSet written;
  private final BitSet dirty;
  private final long forceEveryBytes;
  private int missing;
  private long unforced;
  private long bytesWritten;
  private boolean committed;
  private boolean closed;

  private StagingWriter(
      Manifest manifest, FileAssembler assembler, List<FileAssembler.Staged> staged, long forceEveryBytes) {
    this.manifest = manifest;
    this.assembler = assembler;
    this.placement = ChunkPlacement.of(manifest);
    this.staged = staged;
    this.channels = new FileChannel[staged.size()];
    this.forceEveryBytes = forceEveryBytes;
    this.written = new BitSet(placement.chunkCount());
    this.dirty = new BitSet(staged.size());
    for (int c = 0; c < placement.chunkCount(); c++) {
      if (placement.occurrences(c) == 0) {
        written.set(c); // no file uses it: nothing to write
      } else {
        missing++;
      }
    }
  }

  /**
   * Creates the temp files of {@code m} under {@code targetDir} (stale ones of a killed run are
   * deleted first) and opens them for writing.
   */
  public static StagingWriter open(FileAssembler assembler, Manifest m, Path targetDir, long forceEveryBytes)
      throws IOException {
    StagingWriter w = new StagingWriter(m, assembler, assembler.createStaging(m, targetDir), forceEveryBytes);
    try {
      for (int i = 0; i < w.channels.length; i++) {
        w.channels[i] = FileChannel.open(w.staged.get(i).temp(), StandardOpenOption.WRITE);
      }
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
    return w;
  }

  /** Whether chunk {@code c} is already in the temp files. */
  @Override
  public boolean has(int c) {
    return written.get(c);
  }

  /** Chunks still to be written before {@link #commit} can succeed. */
  @Override
  public int missing() {
    return missing;
  }

  /** Bytes written into temp files so far (a chunk occurring twice counts twice). */
  public long bytesWritten() {
    return bytesWritten;
  }

  @Override
  public void write(int c, ByteBuffer bytes) throws IOException {
    ensureOpen();
    if (written.get(c)) {
      return;
    }
    int size = manifest.getChunks(c).getSize();
    if (bytes.remaining() != size) {
      throw new AssemblyException("chunk " + c + " has " + bytes.remaining() + " bytes, manifest says " + size);
    }
    for (int k = 0; k < placement.occurrences(c); k++) {
      int f = placement.file(c, k);
      long pos = placement.offset(c, k);
      ByteBuffer bb = bytes.duplicate();
      while (bb.hasRemaining()) {
        pos += channels[f].write(bb, pos);
      }
      dirty.set(f);
      unforced += size;
      bytesWritten += size;
    }
    written.set(c);
    missing--;
    if (unforced >= forceEveryBytes) {
      forceDirty();
    }
  }

  private void forceDirty() throws IOException {
    for (int f = dirty.nextSetBit(0); f >= 0; f = dirty.nextSetBit(f + 1)) {
      channels[f].force(false); // data now; commit forces again with metadata
    }
    dirty.clear();
    unforced = 0;
  }

  /**
   * Verifies every temp file against the manifest and renames them over their targets (see
   * {@link FileAssembler#commitStaging}).
   *
   * @throws AssemblyException if chunks are missing or a file does not verify; targets untouched
   */
  public void commit() throws IOException {
    ensureOpen();
    if (missing > 0) {
      throw new AssemblyException(missing + " chunks were never staged");
    }
    closeChannels();
    assembler.commitStaging(manifest, staged);
    committed = true;
  }

  /**
   * The checks of {@link #commit} without the renames: returns the verified temp files for the
   * caller to switch in. {@link #close} still deletes whichever of them were not renamed away.
   */
  @Override
  public List<FileAssembler.Staged> verify() throws IOException {
    ensureOpen();
    if (missing > 0) {
      throw new AssemblyException(missing + " chunks were never staged");
    }
    closeChannels();
    assembler.verifyStaging(manifest, staged);
    return List.copyOf(staged);
  }

  private void ensureOpen() {
    if (closed || committed) {
      throw new IllegalStateException("staging is closed");
    }
  }

  private void closeChannels() throws IOException {
    IOException first = null;
    for (int i = 0; i < channels.length; i++) {
      if (channels[i] != null) {
        try {
          channels[i].close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
        channels[i] = null;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Closes the temp files and deletes those not committed. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      closeChannels();
    } finally {
      FileAssembler.deleteTemps(staged);
    }
  }

  /** Temp file paths, in manifest file order (tests). */
  public List<Path> tempFiles() {
    List<Path> out = new ArrayList<>();
    for (FileAssembler.Staged s : staged) {
      out.add(s.temp());
    }
    return out;
  }
}
