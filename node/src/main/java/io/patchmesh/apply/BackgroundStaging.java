package io.patchmesh.apply;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.ChunkStaging;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a manifest's chunks into its staged files while the download runs, on a thread of its
 * own (never the node loop): the loop {@link #offer}s the index of each chunk once it is stored
 * (verified), with the verified bytes it just stored when it has them, and the thread writes them
 * (see {@link StagingWriter}), or reads the chunk back from the store. Memory stays bounded: bytes
 * are queued only up to {@link #MAX_QUEUED_BYTES} in all; beyond, only the index (BENCHMARKS 13r).
 *
 * <p>Any failure (temp files cannot be created, a chunk cannot be read, a write fails) breaks the
 * staging: its temp files are deleted and {@link #handOver} yields null, so the apply assembles
 * from the store as it would without staging.
 */
public final class BackgroundStaging implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackgroundStaging.class);

  /** Chunk bytes queued for the staging thread at most; a chunk beyond it is read back from the store. */
  public static final long MAX_QUEUED_BYTES = 4L << 20;

  private final String name;
  private final AtomicLong queuedBytes = new AtomicLong();
  private final Manifest manifest;
  private final ChunkSource source;
  private final ExecutorService thread;
  /** Touched only on {@link #thread}. Null before it opened, after it broke, or once handed over. */
  private ChunkStaging writer;
  /** The writer once open, if the store writes received chunks into it itself (file segments). */
  private volatile io.patchmesh.store.FileStaging storeWrites;
  private boolean broken;
  /** Set by {@link #discard}: queued writes are skipped. */
  private volatile boolean cancelled;

  private BackgroundStaging(String name, Manifest manifest, ChunkSource source) {
    this.name = name;
    this.manifest = manifest;
    this.source = source;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "pm-stage-" + name);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts staging {@code m}: its temp files are created on the staging thread, then the chunks
   * in {@code held} (already stored: a resumed download, chunks shared with an older version)
   * are written from the store.
   */
  public static BackgroundStaging start(
      String name, PatchApplier applier, Manifest m, ChunkSource source, int[] held, long forceEveryBytes) {
    return start(name, () -> applier.beginStaging(m, forceEveryBytes), m, source, held);
  }

  /**
   * {@link #start(String, PatchApplier, Manifest, ChunkSource, int[], long)} with the files opened
   * by {@code open} on the staging thread: temp files, or the store's file segments, into which the
   * store writes each received chunk itself (then the thread writes only held chunks).
   */
  public static BackgroundStaging start(
      String name, Callable<ChunkStaging> open, Manifest m, ChunkSource source, int[] held) {
    BackgroundStaging st = new BackgroundStaging(name, m, source);
    st.thread.execute(
        () -> {
          try {
            st.writer = open.call();
            if (st.writer instanceof io.patchmesh.store.FileStaging fs) {
              st.storeWrites = fs;
            }
          } catch (Exception e) {
            st.fail("cannot create staged files: " + e.getMessage());
          }
        });
    for (int c : held) {
      st.offer(c);
    }
    return st;
  }

  /**
   * Whether the store wrote chunk {@code c} into the staged files itself as it stored it (file
   * segments), so nothing need be queued for it. Any thread.
   */
  public boolean storeWrote(int c) {
    io.patchmesh.store.FileStaging fs = storeWrites;
    return fs != null && fs.has(c);
  }

  /** Queues chunk {@code c} (stored, so verified) to be written. Cheap; any thread. */
  public void offer(int c) {
    try {
      thread.execute(() -> write(c));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed
    }
  }

  /**
   * Queues chunk {@code c} with {@code bytes}, which the store has just hashed against {@code id}
   * and stored: written as they are, not read back, if {@code id} is chunk {@code c}'s in the
   * manifest and the queue's bytes stay within {@link #MAX_QUEUED_BYTES}; else as {@link
   * #offer(int)}. Cheap; any thread.
   */
  public void offer(int c, ChunkId id, ByteString bytes) {
    int size = bytes == null ? 0 : bytes.size();
    if (bytes == null || c < 0 || c >= manifest.getChunksCount()
        || !id.equals(ChunkId.of(manifest.getChunks(c).getId()))
        || queuedBytes.addAndGet(size) > MAX_QUEUED_BYTES) {
      if (bytes != null) {
        queuedBytes.addAndGet(-size);
      }
      offer(c);
      return;
    }
    try {
      thread.execute(() -> {
        queuedBytes.addAndGet(-size);
        if (cancelled || writer == null || writer.has(c)) {
          return;
        }
        try {
          writer.write(c, bytes);
        } catch (IOException | RuntimeException e) {
          fail("chunk " + c + ": " + e.getMessage());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      queuedBytes.addAndGet(-size); // closed
    }
  }

  /** Chunk bytes queued now (tests). */
  long queuedBytes() {
    return queuedBytes.get();
  }

  private void write(int c) {
    if (cancelled || writer == null || writer.has(c)) {
      return;
    }
    try {
      writer.write(c, source.read(ChunkId.of(manifest.getChunks(c).getId())));
    } catch (IOException | RuntimeException e) {
      fail("chunk " + c + ": " + e.getMessage());
    }
  }

  private void fail(String why) {
    if (!broken) {
      log.warn("{}: staging abandoned, the apply will assemble from the store: {}", name, why);
    }
    broken = true;
    closeWriter();
  }

  private void closeWriter() {
    storeWrites = null;
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        log.warn("{}: cannot delete staged files: {}", name, e.getMessage());
      }
      writer = null;
    }
  }

  /**
   * Once every chunk offered so far is written: the writer (now the caller's to commit and close),
   * or null if the staging broke. Ends the staging thread.
   */
  public CompletableFuture<ChunkStaging> handOver() {
    CompletableFuture<ChunkStaging> f = new CompletableFuture<>();
    try {
      thread.execute(
          () -> {
            ChunkStaging w = writer;
            writer = null;
            storeWrites = null;
            f.complete(w);
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      f.complete(null);
    }
    thread.shutdown();
    return f;
  }

  /**
   * Stops staging and deletes its temp files (not admitted any more, superseded); returns at once,
   * queued writes are skipped.
   */
  public void discard() {
    cancelled = true;
    try {
      thread.execute(this::closeWriter);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // handed over or closed already
    }
    thread.shutdown();
  }

  /** {@link #discard}, then waits for the thread to end (shutting down). */
  @Override
  public void close() {
    discard();
    awaitThread();
  }

  /** Stops the thread without deleting anything, like a crash (tests' kill). */
  public void abandon() {
    cancelled = true;
    io.patchmesh.store.FileStaging fs = storeWrites;
    if (fs != null) {
      fs.abandon();
    }
    thread.shutdownNow();
    awaitThread();
  }

  private void awaitThread() {
    try {
      if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("{}: staging thread did not stop", name);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
