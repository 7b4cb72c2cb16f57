package io.patchmesh.content;

import io.patchmesh.trust.Sha256Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Cuts a stream into FastCDC chunks, names each by its SHA-256 and hands it to a
 * {@link ChunkSink}, with bounded memory (a few blocks of {@link #blockSize()}
 * bytes, never the whole input).
 *
 * <p>Why two threads: cutting (~1.4 GB/s) and SHA-256 (~1.5 GB/s) each cost about
 * as much per byte, so on one core chunk+hash runs at half the speed of hashing
 * alone. A stream longer than one block is therefore pipelined: the calling
 * thread reads and cuts, one helper thread hashes and calls the sink. A stream
 * that fits one block (most files of a patch) is handled inline, without a
 * thread. Either way the sink sees the same chunks in the same order.
 *
 * <p>Block handoff: a {@link CutBlock} is owned by exactly one thread at a time; it
 * moves cutter -> hasher through {@code work} and back through {@code free}
 * (the queues give the happens-before edges). The bytes of a chunk that may
 * continue past the end of a block are copied to the start of the next block
 * before the block is handed over.
 *
 * <p>Not thread-safe: one {@code chunk} call at a time per instance.
 */
public final class StreamChunker {
  /**
   * @param wholeStreamDigest also compute the SHA-256 of the whole stream (on the
   *     cutting thread, so it overlaps with chunk hashing)
   * @param pipelined hash on a helper thread when the stream exceeds one block
   */
  public record Options(boolean wholeStreamDigest, boolean pipelined) {
    public static final Options DEFAULT = new Options(false, true);
  }

  /**
   * @param bytes length of the stream
   * @param chunks chunks handed to the sink
   * @param sha256 SHA-256 of the whole stream, or null unless requested
   */
  public record Result(long bytes, long chunks, byte[] sha256) {}

  private static final int BLOCKS_IN_FLIGHT = 4;

  private final FastCdc cdc;
  private final Options options;
  private final int blockSize;

  public StreamChunker(ChunkParams params) {
    this(params, Options.DEFAULT);
  }

  public StreamChunker(ChunkParams params, Options options) {
    this.cdc = new FastCdc(params);
    this.options = Objects.requireNonNull(options);
    // At least 4 max-size chunks per block, so the tail copied between blocks
    // is a small share of the bytes.
    this.blockSize = Math.max(1 << 20, 4 * params.max());
  }

  public ChunkParams params() {
    return cdc.params();
  }

  public int blockSize() {
    return blockSize;
  }

  /** Chunks {@code in} to its end. Does not close {@code in}. */
  public Result chunk(InputStream in, ChunkSink sink) throws IOException {
    Sha256Digest whole = options.wholeStreamDigest() ? ChunkId.sha256() : null;
    CutBlock first = newBlock();
    int n = in.readNBytes(first.buf, 0, blockSize);
    if (whole != null) {
      whole.update(first.buf, 0, n);
    }
    boolean eof = n < blockSize;
    if (eof || !options.pipelined()) {
      return cutLoop(in, first, n, eof, new Inline(newBlock(), sink), whole);
    }
    try (Pipeline pipeline = new Pipeline(sink)) {
      Result result = cutLoop(in, first, n, false, pipeline, whole);
      pipeline.finish();
      return result;
    }
  }

  /**
   * Chunks {@code data[off, off+len)} in place: the same chunks in the same order as
   * {@link #chunk(InputStream, ChunkSink)} over those bytes, without copying them into
   * blocks (the blocks are windows of {@code data}). For bytes already in memory.
   * {@code data} must not change until this returns.
   *
   * <p>Pipelined, the two threads share the hashing: the calling thread cuts every
   * window (no buffer to wait for), then hashes windows from the last one backwards
   * while the helper thread hashes from the first one forwards and calls the sink in
   * order; they meet in the middle, so neither core idles whichever stage is slower.
   */
  public Result chunk(byte[] data, int off, int len, ChunkSink sink) throws IOException {
    Objects.checkFromIndexSize(off, len, data.length);
    Sha256Digest whole = options.wholeStreamDigest() ? ChunkId.sha256() : null;
    if (len <= blockSize || !options.pipelined()) {
      Inline inline = new Inline(newWindow(), sink);
      CutBlock current = newWindow();
      int pos = off;
      long chunks = 0;
      while (true) {
        pos = cutWindow(data, pos, off + len, current, whole);
        chunks += current.count;
        if (pos == off + len) {
          inline.emit(current);
          return new Result(len, chunks, whole == null ? null : whole.digest());
        }
        CutBlock next = inline.takeFree();
        inline.emit(current);
        current = next;
      }
    }
    try (SharedHashing shared = new SharedHashing(len / blockSize + 2, sink)) {
      int pos = off;
      long chunks = 0;
      while (pos < off + len) {
        CutBlock w = newWindow();
        pos = cutWindow(data, pos, off + len, w, whole);
        chunks += w.count;
        shared.publish(w);
      }
      shared.endAndHelp();
      shared.finish();
      return new Result(len, chunks, whole == null ? null : whole.digest());
    }
  }

  /**
   * Cuts chunks from {@code pos} into {@code w} until it covers at least one block or
   * reaches {@code end}; returns where the next window starts.
   */
  private int cutWindow(byte[] data, int pos, int end, CutBlock w, Sha256Digest whole) {
    w.buf = data;
    w.count = 0;
    int start = pos;
    // Each chunk but the stream's last is >= min bytes, so a window of blockSize
    // bytes holds at most blockSize / min + 1 of them: the block's capacity.
    while (pos < end && pos - start < blockSize) {
      int n = cdc.cut(data, pos, end - pos);
      w.add(pos, n);
      pos += n;
    }
    if (whole != null) {
      whole.update(data, start, pos - start);
    }
    return pos;
  }

  private CutBlock newWindow() {
    return new CutBlock(0, blockSize / cdc.params().min() + 2);
  }

  private CutBlock newBlock() {
    return new CutBlock(blockSize, blockSize / cdc.params().min() + 1);
  }

  /** Where cut blocks go: hashed inline, or handed to the hashing thread. */
  private interface Stage {
    /** A block the cutter may fill next. */
    CutBlock takeFree() throws IOException;

    void emit(CutBlock cut) throws IOException;
  }

  /**
   * Reads, cuts, and emits blocks until the end of the stream. {@code current}
   * holds {@code filled} bytes already read (and already in {@code whole}).
   */
  private Result cutLoop(
      InputStream in, CutBlock current, int filled, boolean eof, Stage stage, Sha256Digest whole)
      throws IOException {
    long total = filled;
    long chunks = 0;
    int max = cdc.params().max();
    while (true) {
      current.count = 0;
      int pos = 0;
      // Only cut where a full max-size window is available, unless at the end:
      // otherwise the cut would depend on where a read happened to stop.
      while (filled - pos >= max || (eof && pos < filled)) {
        int len = cdc.cut(current.buf, pos, filled - pos);
        current.add(pos, len);
        pos += len;
      }
      chunks += current.count;
      if (eof) {
        stage.emit(current);
        return new Result(total, chunks, whole == null ? null : whole.digest());
      }
      CutBlock next = stage.takeFree();
      int tail = filled - pos;
      System.arraycopy(current.buf, pos, next.buf, 0, tail);
      stage.emit(current);
      int n = in.readNBytes(next.buf, tail, blockSize - tail);
      if (whole != null) {
        whole.update(next.buf, tail, n);
      }
      total += n;
      eof = n < blockSize - tail;
      filled = tail + n;
      current = next;
    }
  }

  /** Single-threaded: two blocks take turns. */
  private static final class Inline implements Stage {
    private final ChunkSink sink;
    private final Sha256Digest md = ChunkId.sha256();
    private final byte[] digest = new byte[ChunkId.LENGTH];
    private CutBlock spare;

    Inline(CutBlock spare, ChunkSink sink) {
      this.spare = spare;
      this.sink = sink;
    }

    @Override
    public CutBlock takeFree() {
      return spare;
    }

    @Override
    public void emit(CutBlock cut) throws IOException {
      CutBlock.hash(cut, md, digest, sink);
      spare = cut;
    }
  }

  /**
   * Hashing on one helper thread. Failure handling: if the sink throws, the
   * hasher records it and keeps recycling blocks without hashing them, so the
   * cutter never blocks forever; the cutter sees the failure at its next
   * {@link #takeFree()} or at {@link #finish()} and rethrows it.
   */
  private final class Pipeline implements Stage, AutoCloseable {
    private final CutBlock end = new CutBlock(0, 0); // marker: no more blocks
    // Capacity > blocks in flight, so put() never blocks.
    private final BlockingQueue<CutBlock> work = new ArrayBlockingQueue<>(BLOCKS_IN_FLIGHT + 2);
    private final BlockingQueue<CutBlock> free = new ArrayBlockingQueue<>(BLOCKS_IN_FLIGHT + 2);
    private final ChunkSink sink;
    private final Thread hasher;
    private volatile Throwable failure;
    private boolean ended;

    Pipeline(ChunkSink sink) {
      this.sink = sink;
      for (int i = 1; i < BLOCKS_IN_FLIGHT; i++) { // the cutter already holds one
        free.add(newBlock());
      }
      // Created here, not on the hasher: a failure must reach the caller, not kill the
      // hasher silently and leave the cutter waiting for a free block forever.
      Sha256Digest md = ChunkId.sha256();
      hasher = new Thread(() -> hashLoop(md), "patchmesh-chunk-hasher");
      hasher.setDaemon(true);
      hasher.start();
    }

    private void hashLoop(Sha256Digest md) {
      byte[] digest = new byte[ChunkId.LENGTH];
      while (true) {
        CutBlock b;
        try {
          b = work.take();
        } catch (InterruptedException e) {
          failure = e; // nobody interrupts this thread but us; the cutter still sends end
          continue;
        }
        if (b == end) {
          return;
        }
        if (failure == null) {
          try {
            CutBlock.hash(b, md, digest, sink);
          } catch (Throwable t) {
            failure = t;
          }
        }
        free.add(b);
      }
    }

    @Override
    public CutBlock takeFree() throws IOException {
      rethrowFailure();
      try {
        CutBlock b = free.take();
        rethrowFailure();
        return b;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while chunking");
      }
    }

    @Override
    public void emit(CutBlock cut) {
      work.add(cut);
    }

    /** Waits until every emitted block is hashed; rethrows a sink failure. */
    void finish() throws IOException {
      endAndJoin();
      rethrowFailure();
    }

    private void endAndJoin() {
      if (!ended) {
        ended = true;
        work.add(end);
      }
      boolean interrupted = false;
      while (hasher.isAlive()) {
        try {
          hasher.join();
        } catch (InterruptedException e) {
          interrupted = true; // the hasher stops soon: it only drains what is queued
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    private void rethrowFailure() throws IOException {
      CutBlock.rethrow(failure);
    }

    /** Always stops the helper thread, also when the cutter failed. */
    @Override
    public void close() {
      endAndJoin();
    }
  }
}
