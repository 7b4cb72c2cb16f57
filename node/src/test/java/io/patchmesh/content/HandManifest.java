package io.patchmesh.content;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * Manifests written by hand from a few chunks, so tests can place chunks exactly: repeated within
 * a file, shared among files, unused, or files with no chunks at all.
 */
final class HandManifest {
  final List<byte[]> chunks;
  final MemoryChunks store = new MemoryChunks();
  private final Manifest.Builder b = Manifest.newBuilder().setChannel("c").setVersion(1);

  HandManifest(List<byte[]> chunks) {
    this.chunks = chunks;
    for (byte[] c : chunks) {
      ChunkId id = ChunkId.hash(c, 0, c.length);
      store.chunks.put(id, c.clone());
      b.addChunks(ChunkRef.newBuilder().setId(id.toByteString()).setSize(c.length));
    }
  }

  HandManifest file(String path, int... indices) {
    byte[] content = content(indices);
    FileEntry.Builder f = FileEntry.newBuilder().setPath(path).setMode(0644).setSize(content.length)
        .setSha256(ByteString.copyFrom(ChunkId.sha256().digest(content)));
    for (int i : indices) {
      f.addChunkIndex(i);
    }
    b.addFiles(f);
    return this;
  }

  byte[] content(int... indices) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i : indices) {
      out.writeBytes(chunks.get(i));
    }
    return out.toByteArray();
  }

  Manifest manifest() {
    return b.build();
  }

  byte[] chunk(int i) {
    return chunks.get(i).clone();
  }
}
