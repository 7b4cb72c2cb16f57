package io.patchmesh.seed;

import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestSigner;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * Builds and signs a manifest from a {@link PublishSpec}: chunks the inputs,
 * streams every distinct chunk to a {@link ChunkSink} (a bundle directory, a
 * store, an upload) once, signs the manifest bytes with every key and counts
 * what is new relative to the previous version.
 *
 * <p>Where the chunks and the signed manifest go is the caller's business:
 * this class only builds and signs, so the same logic serves
 * {@code publish --out BUNDLE} and {@code publish --seed URL}. The sink gets
 * <em>every</em> distinct chunk (a bundle must be complete on its own); a sink
 * that only wants new ones can ask {@link PreviousVersion#known()}.
 *
 * <p>Stateless apart from its clock; thread-safe.
 */
public final class Publisher {
  private final Clock clock;

  public Publisher(Clock clock) {
    this.clock = Objects.requireNonNull(clock);
  }

  public Publisher() {
    this(Clock.systemUTC());
  }

  /**
   * Chunk params a spec resolves to: explicit ones, else the previous
   * version's (so unchanged bytes dedup), else the default.
   */
  public static ChunkParams paramsFor(PublishSpec spec) {
    if (spec.chunkParams() != null) {
      return spec.chunkParams();
    }
    if (spec.previous().params() != null) {
      return spec.previous().params();
    }
    return ChunkParams.DEFAULT;
  }

  /**
   * Builds and signs.
   *
   * @throws UserInputException unusable inputs, or a previous version that does
   *     not fit (other channel, not older)
   * @throws IOException if the sink fails
   */
  public Published build(PublishSpec spec, ChunkSink sink, ProgressListener progress) throws IOException {
    PreviousVersion prev = spec.previous();
    if (!prev.isNone()) {
      if (!spec.channel().equals(prev.channel())) {
        throw new UserInputException(
            prev.source() + ": is channel '" + prev.channel() + "', not '" + spec.channel() + "'");
      }
      if (Long.compareUnsigned(prev.version(), spec.version()) >= 0) {
        throw new UserInputException(
            "--version " + spec.version() + ": not newer than version " + Long.toUnsignedString(prev.version())
                + " in " + prev.source());
      }
    }
    Instant created = clock.instant();
    ManifestBuilder builder =
        new ManifestBuilder(paramsFor(spec), clock)
            .channel(spec.channel())
            .version(spec.version())
            .created(created)
            .expires(created.plus(spec.lifetime()))
            .installCommand(spec.installCommand())
            .writableModes(spec.writableModes())
            .installTimeout(spec.installTimeout())
            .rollout(spec.rollout().toProto())
            .fixes(spec.fixes());
    if (!prev.isNone()) {
      builder.previousId(prev.id().toByteString());
    }

    NewChunkCounter counter = new NewChunkCounter(sink, prev.known());
    Manifest manifest = builder.build(spec.inputs(), counter, progress);
    SignedManifest signed = ManifestSigner.sign(manifest.toByteArray(), spec.keys());
    ManifestId id = ManifestId.ofManifestBytes(signed.getManifest().toByteArray());
    return new Published(
        id,
        signed,
        manifest,
        manifest.getFilesCount(),
        manifest.getChunksCount(),
        manifest.getLimits().getTotalBytes(),
        counter.newChunks,
        counter.newBytes);
  }

  /** Passes every chunk on and counts the ones not known before. */
  private static final class NewChunkCounter implements ChunkSink {
    private final ChunkSink next;
    private final PreviousVersion.KnownChunks known;
    int newChunks;
    long newBytes;

    NewChunkCounter(ChunkSink next, PreviousVersion.KnownChunks known) {
      this.next = next;
      this.known = known;
    }

    @Override
    public void accept(io.patchmesh.content.ChunkId id, byte[] buf, int off, int len) throws IOException {
      if (!known.has(id)) {
        newChunks++;
        newBytes += len;
      }
      next.accept(id, buf, off, len);
    }
  }
}
