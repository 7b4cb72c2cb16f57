package io.patchmesh.seed;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a new version is cut against: the previous manifest of the channel (for
 * its id, its chunk parameters and a version sanity check) and the chunks that
 * are already out there, so the publisher can report what is really new.
 *
 * <p>The previous manifest is read, not verified: it only steers chunking and
 * counting. Nothing about the new manifest's trust depends on it (its id is
 * recorded as {@code previous_id}, which receivers treat as informational).
 *
 * @param source where it came from, for messages (e.g. "--previous bundle-v1")
 * @param id manifest id of the previous version, or null if there is none
 * @param channel its channel, or null
 * @param version its version, 0 if none
 * @param params the chunk parameters it was cut with, or null
 * @param known chunks already published (the previous version's, or a whole store's)
 */
public record PreviousVersion(
    String source, ManifestId id, String channel, long version, ChunkParams params, KnownChunks known) {

  /** Chunks that already exist somewhere the receivers can get them. */
  @FunctionalInterface
  public interface KnownChunks {
    boolean has(ChunkId id);

    KnownChunks NONE = id -> false;
  }

  /** Nothing before: every chunk is new. */
  public static final PreviousVersion NONE = new PreviousVersion("", null, null, 0, null, KnownChunks.NONE);

  public PreviousVersion {
    Objects.requireNonNull(source);
    Objects.requireNonNull(known);
  }

  /** The manifest in a bundle directory ({@code publish --previous BUNDLE}); known chunks = its chunk table. */
  public static PreviousVersion fromBundle(Path bundle) {
    SignedManifest signed = BundleReader.open(bundle).readSignedManifest();
    String source = "--previous " + bundle;
    Manifest m = parse(signed, source);
    Set<ChunkId> chunks = new HashSet<>();
    for (ChunkRef c : m.getChunksList()) {
      if (c.getId().size() == ChunkId.LENGTH) {
        chunks.add(ChunkId.of(c.getId()));
      }
    }
    return of(source, signed, m, chunks::contains);
  }

  /**
   * A previous signed manifest whose chunks live somewhere described by
   * {@code known} (e.g. a node store's chunk table).
   */
  public static PreviousVersion of(String source, SignedManifest signed, KnownChunks known) {
    return of(source, signed, parse(signed, source), known);
  }

  private static PreviousVersion of(String source, SignedManifest signed, Manifest m, KnownChunks known) {
    ChunkParams params;
    try {
      params = m.hasChunkParams() ? ChunkParams.fromProto(m.getChunkParams()) : null;
    } catch (IllegalArgumentException e) {
      throw new UserInputException(source + ": manifest records unusable chunk parameters (" + e.getMessage() + ")");
    }
    ManifestId id = ManifestId.ofManifestBytes(signed.getManifest().toByteArray());
    return new PreviousVersion(source, id, m.getChannel(), m.getVersion(), params, known);
  }

  private static Manifest parse(SignedManifest signed, String source) {
    try {
      return Manifest.parseFrom(signed.getManifest());
    } catch (InvalidProtocolBufferException e) {
      throw new UserInputException(source + ": garbled manifest (" + e.getMessage() + ")");
    }
  }

  public boolean isNone() {
    return id == null;
  }
}
