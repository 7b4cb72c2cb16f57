package io.patchmesh.content;

import java.io.IOException;
import io.patchmesh.trust.Sha256Digest;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The in-place pipeline: windows are published in order to a helper thread that
 * hashes them and calls the sink; once every window is cut, the publishing thread
 * claims unhashed windows from the end and hashes them too. Each window is claimed
 * once (compare-and-set on its state), so each chunk is hashed once.
 */
final class SharedHashing implements AutoCloseable {
  private static final int UNCLAIMED = 0;
  private static final int BY_HELPER_THREAD = 1;
  private static final int BY_CUTTER = 2;
  private static final int DIGESTS_READY = 3;

  private final CutBlock[] windows;
  private final AtomicIntegerArray state;
  private final Semaphore published = new Semaphore(0);
  private final Object ready = new Object();
  private final ChunkSink sink;
  private final Thread hasher;
  private volatile int windowCount = -1; // set once every window is published
  private volatile Throwable failure;
  private volatile boolean closing;
  private int next;

  SharedHashing(int maxWindows, ChunkSink sink) {
    this.windows = new CutBlock[maxWindows];
    this.state = new AtomicIntegerArray(maxWindows);
    this.sink = sink;
    hasher = new Thread(this::hashForwards, "patchmesh-chunk-hasher");
    hasher.setDaemon(true);
    hasher.start();
  }

  /** Hands the next window to the helper thread (the semaphore orders the write). */
  void publish(CutBlock w) {
    windows[next++] = w;
    published.release();
  }

  /** Marks the end of the windows, then hashes windows from the last one backwards. */
  void endAndHelp() {
    windowCount = next;
    published.release();
    Sha256Digest md = ChunkId.sha256();
    for (int i = next - 1; i >= 0 && failure == null; i--) {
      if (!state.compareAndSet(i, UNCLAIMED, BY_CUTTER)) {
        return; // the helper thread got here first: everything before is its share
      }
      CutBlock w = windows[i];
      w.digests = new byte[w.count * ChunkId.LENGTH];
      for (int k = 0; k < w.count; k++) {
        md.update(w.buf, w.offsets[k], w.lengths[k]);
        CutBlock.digestInto(md, w.digests, k * ChunkId.LENGTH);
      }
      synchronized (ready) {
        state.set(i, DIGESTS_READY);
        ready.notifyAll();
      }
    }
  }

  private void hashForwards() {
    Sha256Digest md = ChunkId.sha256();
    byte[] digest = new byte[ChunkId.LENGTH];
    try {
      for (int i = 0; ; i++) {
        published.acquireUninterruptibly();
        int count = windowCount;
        if (count >= 0 && i >= count) {
          return;
        }
        CutBlock w = windows[i];
        if (state.compareAndSet(i, UNCLAIMED, BY_HELPER_THREAD)) {
          CutBlock.hash(w, md, digest, sink);
          continue;
        }
        synchronized (ready) {
          while (state.get(i) != DIGESTS_READY) {
            if (closing) {
              return; // the cutter failed midway through this window
            }
            ready.wait();
          }
        }
        for (int k = 0; k < w.count; k++) {
          int at = k * ChunkId.LENGTH;
          sink.accept(ChunkId.of(Arrays.copyOfRange(w.digests, at, at + ChunkId.LENGTH)),
              w.buf, w.offsets[k], w.lengths[k]);
        }
      }
    } catch (Throwable t) {
      failure = t; // the cutter checks it; nothing waits on this thread but join
    }
  }

  void finish() throws IOException {
    close();
    CutBlock.rethrow(failure);
  }

  /** Always stops the helper thread, also when cutting failed. */
  @Override
  public void close() {
    if (windowCount < 0) {
      windowCount = next;
      published.release();
    }
    synchronized (ready) {
      closing = true;
      ready.notifyAll();
    }
    boolean interrupted = false;
    while (hasher.isAlive()) {
      try {
        hasher.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
