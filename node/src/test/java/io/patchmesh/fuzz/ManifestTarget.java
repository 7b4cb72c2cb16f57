package io.patchmesh.fuzz;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkParams;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VersionFloor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The signed-manifest gate, {@link ManifestVerifier#verify(byte[], TrustedRoot, VersionFloor,
 * java.time.Instant)}, as a peer's ManifestParts or a bundle reach it.
 *
 * <p>Besides the generic families on the signed envelope, one family in eight mutates the manifest
 * itself (bit flips, or a field set to an extreme value) and re-signs it with the publisher keys:
 * that is the only way fuzz input gets past the signature check to the parser and the structure
 * checks, i.e. what a compromised or buggy publisher could send. Expected outcome: a
 * {@link VerificationException}.
 */
public final class ManifestTarget implements FuzzTarget {
  private final ManifestVerifier verifier = new ManifestVerifier();
  private final TrustedRoot root = FuzzKeys.trustedRoot();
  private final VersionFloor floor = channel -> FuzzKeys.CHANNEL.equals(channel) ? 5 : 0;
  private final Manifest manifest = manifest();
  private final byte[] valid = ManifestSigner.sign(manifest, List.of(FuzzKeys.A, FuzzKeys.B)).toByteArray();

  @Override
  public String name() {
    return "manifest";
  }

  /** A manifest the verifier accepts: two files over three chunks, version 7 above the floor of 5. */
  static Manifest manifest() {
    return Manifest.newBuilder()
        .setFormat(ManifestVerifier.FORMAT)
        .setChannel(FuzzKeys.CHANNEL)
        .setVersion(7)
        .setCreatedUnix(FuzzKeys.NOW.getEpochSecond() - 60)
        .setExpiresUnix(FuzzKeys.NOW.plus(Duration.ofDays(30)).getEpochSecond())
        .addChunks(ChunkRef.newBuilder().setId(hash("c0")).setSize(100))
        .addChunks(ChunkRef.newBuilder().setId(hash("c1")).setSize(50))
        .addChunks(ChunkRef.newBuilder().setId(hash("c2")).setSize(10))
        .addFiles(FileEntry.newBuilder().setPath("bin/tool").setMode(0755).setSize(150)
            .setSha256(hash("bin/tool")).addChunkIndex(0).addChunkIndex(1))
        .addFiles(FileEntry.newBuilder().setPath("README").setMode(0644).setSize(10)
            .setSha256(hash("README")).addChunkIndex(2))
        .setLimits(Limits.newBuilder().setTotalBytes(160).setChunkCount(3).setFileCount(2))
        .setChunkParams(ChunkParams.newBuilder().setMinSize(8).setAvgSize(64).setMaxSize(256))
        .build();
  }

  private static ByteString hash(String s) {
    try {
      return ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The valid signed manifest every mutation starts from. */
  public byte[] valid() {
    return valid.clone();
  }

  @Override
  public byte[] generate(SplittableRandom r) {
    if (r.nextInt(8) == 0) {
      return resigned(r);
    }
    return Mutations.any(r, valid, 1);
  }

  /** A mutated manifest carrying valid publisher signatures. */
  private byte[] resigned(SplittableRandom r) {
    byte[] bytes = r.nextBoolean() ? Mutations.any(r, manifest.toByteArray(), 9) : extremeField(r).toByteArray();
    return ManifestSigner.sign(bytes, List.of(FuzzKeys.A, FuzzKeys.B)).toByteArray();
  }

  /** The valid manifest with one field set to an edge value. */
  private Manifest extremeField(SplittableRandom r) {
    Manifest.Builder b = manifest.toBuilder();
    long v = Edges.longValue(r);
    int i = (int) v;
    switch (r.nextInt(11)) {
      case 0 -> b.setExpiresUnix(v);
      case 1 -> b.setVersion(v);
      case 2 -> b.setFormat(i);
      case 3 -> b.setChannel(Edges.string(r));
      case 4 -> b.setChunks(r.nextInt(3), b.getChunks(0).toBuilder().setSize(i));
      case 5 -> b.setFiles(r.nextInt(2), b.getFiles(0).toBuilder().setPath(Edges.string(r)));
      case 6 -> b.setFiles(r.nextInt(2), b.getFiles(1).toBuilder().setChunkIndex(0, i));
      case 7 -> b.setLimits(b.getLimits().toBuilder().setTotalBytes(v).setChunkCount(i));
      case 8 -> b.setFiles(0, b.getFiles(0).toBuilder().setSize(v).setMode(i));
      case 9 -> b.setChunkParams(b.getChunkParams().toBuilder().setMaxSize(i));
      default -> b.setCreatedUnix(v).getRolloutBuilder().setNotBeforeUnix(v);
    }
    return b.build();
  }

  @Override
  public void feed(byte[] input) {
    verifier.verify(input, root, floor, FuzzKeys.NOW);
  }

  @Override
  public boolean expected(Throwable thrown) {
    return thrown instanceof VerificationException;
  }
}
