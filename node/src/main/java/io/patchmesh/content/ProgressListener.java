package io.patchmesh.content;

/**
 * Told how far a long operation (building a manifest, assembling files) has got,
 * so a command line can draw progress. Calls are in order and never concurrent,
 * but may come from a worker thread; keep them cheap.
 */
@FunctionalInterface
public interface ProgressListener {
  void progress(long bytesDone, long bytesTotal);

  ProgressListener NONE = (done, total) -> {};
}
