package io.patchmesh.content;

import java.nio.file.Path;

/**
 * The layout of a bundle: a directory holding a signed manifest and its chunks,
 * what {@code publish --out} writes and {@code apply} reads.
 *
 * <pre>
 * BUNDLE/manifest.signed            SignedManifest protobuf bytes
 * BUNDLE/chunks/ab/ab12...(64 hex)  one file per chunk, named by its SHA-256
 * </pre>
 *
 * The two-character fan-out keeps directories small (a 1 GB patch has ~10^4-10^5
 * chunks).
 */
public final class Bundle {
  public static final String MANIFEST_FILE = "manifest.signed";
  public static final String CHUNKS_DIR = "chunks";
  /** Largest signed manifest a bundle may hold (the wire limit for manifests). */
  public static final int MAX_SIGNED_MANIFEST_BYTES = 64 << 20;

  private Bundle() {}

  public static Path manifestPath(Path bundle) {
    return bundle.resolve(MANIFEST_FILE);
  }

  public static Path chunkPath(Path bundle, ChunkId id) {
    String hex = id.hex();
    return bundle.resolve(CHUNKS_DIR).resolve(hex.substring(0, 2)).resolve(hex);
  }
}
