package io.patchmesh.seed;

import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;

/**
 * A freshly built and signed manifest with the numbers a publisher wants to
 * see: how big the patch is and how much of it is new.
 *
 * @param id manifest id (SHA-256 of the signed manifest bytes)
 * @param signed the envelope, signed by every key of the spec
 * @param manifest the parsed manifest (same bytes)
 * @param files number of files
 * @param chunks distinct chunks
 * @param bytes total size of the files
 * @param newChunks distinct chunks the previous version / store did not have
 * @param newBytes their total size: roughly what must cross the network
 */
public record Published(
    ManifestId id,
    SignedManifest signed,
    Manifest manifest,
    int files,
    int chunks,
    long bytes,
    int newChunks,
    long newBytes) {

  public String channel() {
    return manifest.getChannel();
  }

  public long version() {
    return manifest.getVersion();
  }
}
