package io.patchmesh.tools;

import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Predicate;

/**
 * Verification of a bundle as {@code verify} and {@code apply} do it: the
 * signed manifest against the trust root and a version floor, then every
 * chunk file against its name and size. Rejections become one line naming
 * the bundle (exit 3); unreadable input stays exit 2.
 */
final class BundleCheck {
  private BundleCheck() {}

  /**
   * Verifies the bundle's signed manifest. A manifest for which
   * {@code reapplicable} holds is checked without the rollback test, so
   * re-applying the bundle last applied is fine.
   */
  static VerifiedManifest verifyManifest(
      Path bundle,
      BundleReader reader,
      TrustedRoot root,
      VersionFloor floor,
      Predicate<ManifestId> reapplicable,
      Instant now) {
    SignedManifest signed = reader.readSignedManifest();
    ManifestId id = ManifestId.ofManifestBytes(signed.getManifest().toByteArray());
    ManifestVerifier verifier = new ManifestVerifier();
    try {
      return reapplicable.test(id) ? verifier.verifyStored(signed, root, now) : verifier.verify(signed, root, floor, now);
    } catch (VerificationException e) {
      throw rejected(bundle, e.getMessage());
    }
  }

  /**
   * Manifests the store accepted that are still the newest of their channel:
   * applying one again repeats what is already installed. An older accepted
   * one is not included: installing it again would be a rollback.
   */
  static Predicate<ManifestId> newestAccepted(ManifestStore manifests) {
    return id -> manifests.info(id).map(s -> s.version() >= manifests.highestAccepted(s.channel())).orElse(false);
  }

  /** Reads and re-hashes every chunk the manifest lists. */
  static void verifyChunks(Path bundle, BundleReader reader, Manifest m, ProgressListener progress) {
    long total = m.getLimits().getTotalBytes();
    long done = 0;
    for (ChunkRef ref : m.getChunksList()) {
      ChunkId id = ChunkId.of(ref.getId());
      byte[] bytes = readChunk(bundle, reader, id);
      if (bytes.length != ref.getSize()) {
        throw rejected(bundle, "rejected (size mismatch): chunk " + id.shortHex() + " has " + bytes.length
            + " bytes, manifest says " + ref.getSize());
      }
      done += bytes.length;
      progress.progress(Math.min(done, total), total);
    }
  }

  /** One verified chunk from the bundle, or a rejection naming its file. */
  static byte[] readChunk(Path bundle, BundleReader reader, ChunkId id) {
    try {
      return reader.read(id);
    } catch (MissingChunkException e) {
      throw rejected(bundle, "rejected (missing chunk): " + e.getMessage());
    } catch (CorruptChunkException e) {
      throw rejected(bundle, "rejected (hash mismatch): " + e.getMessage());
    } catch (IOException e) {
      throw new CliFailure(Main.USAGE, bundle + ": cannot read chunk " + id.shortHex() + " (" + e.getMessage() + ")");
    }
  }

  static CliFailure rejected(Path bundle, String message) {
    return new CliFailure(Main.REJECTED, bundle + ": " + message);
  }
}
