package io.patchmesh.transfer;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Deterministic ids for tests. */
final class Ids {
  private Ids() {}

  static NodeId node(String name) {
    return NodeId.ofPublicKey(name.getBytes(StandardCharsets.UTF_8));
  }

  static ChunkId chunk(String name) {
    return ChunkId.hash(name.getBytes(StandardCharsets.UTF_8));
  }

  static ManifestId manifest(String name) {
    return ManifestId.ofManifestBytes(name.getBytes(StandardCharsets.UTF_8));
  }

  /** A table of {@code n} chunks named prefix-i, all of {@code size} bytes. */
  static ChunkTable table(String prefix, int n, int size) {
    List<ChunkId> ids = new ArrayList<>();
    int[] sizes = new int[n];
    for (int i = 0; i < n; i++) {
      ids.add(chunk(prefix + "-" + i));
      sizes[i] = size;
    }
    return new ChunkTable(ids, sizes);
  }
}
