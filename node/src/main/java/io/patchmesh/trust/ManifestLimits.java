package io.patchmesh.trust;

/**
 * This node's hard caps on what a manifest may ask of it, whatever its
 * signatures say: a manifest cannot make a node download or track endless data.
 *
 * @param maxSignedManifestBytes size of the serialized manifest (the signed bytes)
 * @param maxTotalBytes sum of all file sizes
 * @param maxChunks distinct chunks in {@code Manifest.chunks}
 * @param maxFiles file entries
 * @param maxChunkSize size of one chunk
 * @param maxSignatures signatures on one envelope (each costs an Ed25519 verify)
 */
public record ManifestLimits(
    long maxSignedManifestBytes,
    long maxTotalBytes,
    int maxChunks,
    int maxFiles,
    int maxChunkSize,
    int maxSignatures) {

  /** 64 MiB manifest, 64 GiB content, 4,000,000 chunks, 1,000,000 files, 256 KiB chunks, 64 signatures. */
  public static final ManifestLimits DEFAULTS =
      new ManifestLimits(64L << 20, 64L << 30, 4_000_000, 1_000_000, 256 << 10, 64);

  public ManifestLimits {
    if (maxSignedManifestBytes <= 0 || maxTotalBytes < 0 || maxChunks < 0 || maxFiles < 0
        || maxChunkSize <= 0 || maxSignatures <= 0) {
      throw new IllegalArgumentException("manifest limits must be positive: " + this);
    }
  }

  public ManifestLimits withMaxTotalBytes(long v) {
    return new ManifestLimits(maxSignedManifestBytes, v, maxChunks, maxFiles, maxChunkSize, maxSignatures);
  }

  public ManifestLimits withMaxChunks(int v) {
    return new ManifestLimits(maxSignedManifestBytes, maxTotalBytes, v, maxFiles, maxChunkSize, maxSignatures);
  }

  public ManifestLimits withMaxFiles(int v) {
    return new ManifestLimits(maxSignedManifestBytes, maxTotalBytes, maxChunks, v, maxChunkSize, maxSignatures);
  }

  public ManifestLimits withMaxChunkSize(int v) {
    return new ManifestLimits(maxSignedManifestBytes, maxTotalBytes, maxChunks, maxFiles, v, maxSignatures);
  }

  public ManifestLimits withMaxSignedManifestBytes(long v) {
    return new ManifestLimits(v, maxTotalBytes, maxChunks, maxFiles, maxChunkSize, maxSignatures);
  }
}
