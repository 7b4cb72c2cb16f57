package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.store.StoreDb.Cf;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/** Where a chunk's bytes lie in its segment, for tests that damage them under the API. */
record StoredAt(Path file, int segment, long offset, int size) {
  static StoredAt of(NodeStore store, ChunkId id) {
    byte[] e = store.db().get(Cf.CHUNK_INDEX, Keys.chunk(id));
    if (e == null || !Keys.inSegment(e)) {
      throw new AssertionError("chunk " + id.shortHex() + " is not in a segment");
    }
    Segment s = store.chunks().segments().get(Keys.segmentOf(e));
    return new StoredAt(s.path, s.number, Keys.offsetOf(e), Keys.decodeInt(e));
  }

  /** Overwrites bytes at {@code at} (relative to the chunk's start) in place. */
  void overwrite(long at, byte[] bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset + at);
      f.write(bytes);
    }
  }

  byte[] read() throws IOException {
    byte[] b = new byte[size];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(offset);
      f.readFully(b);
    }
    return b;
  }
}
