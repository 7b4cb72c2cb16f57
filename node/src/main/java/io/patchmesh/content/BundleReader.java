package io.patchmesh.content;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.SignedManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a bundle (see {@link Bundle}). As a {@link ChunkSource} it re-hashes
 * every chunk it reads: a bundle is a directory anyone may have touched, so
 * bytes are trusted only when they match their name. Thread-safe.
 */
public final class BundleReader implements ChunkSource {
  private final Path dir;

  private BundleReader(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens a bundle directory.
   *
   * @throws UserInputException if {@code dir} is not a directory holding a
   *     manifest.signed
   */
  public static BundleReader open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserInputException(dir + ": not a bundle: " + (Files.exists(dir) ? "not a directory" : "no such directory"));
    }
    if (!Files.isRegularFile(Bundle.manifestPath(dir))) {
      throw new UserInputException(dir + ": not a bundle: missing " + Bundle.MANIFEST_FILE);
    }
    return new BundleReader(dir);
  }

  public Path dir() {
    return dir;
  }

  /**
   * The bytes of BUNDLE/manifest.signed, at most
   * {@link Bundle#MAX_SIGNED_MANIFEST_BYTES}.
   *
   * @throws UserInputException if missing, empty, too large or unreadable
   */
  public byte[] readSignedManifestBytes() {
    Path p = Bundle.manifestPath(dir);
    try (InputStream in = Files.newInputStream(p)) {
      byte[] bytes = in.readNBytes(Bundle.MAX_SIGNED_MANIFEST_BYTES + 1);
      if (bytes.length > Bundle.MAX_SIGNED_MANIFEST_BYTES) {
        throw new UserInputException(p + ": larger than the " + (Bundle.MAX_SIGNED_MANIFEST_BYTES >> 20) + " MiB limit for a signed manifest");
      }
      if (bytes.length == 0) {
        throw new UserInputException(p + ": empty, not a signed manifest");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw new UserInputException(p + ": missing; not a bundle", e);
    } catch (IOException e) {
      throw new UserInputException(p + ": cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * The signed manifest, parsed (not verified: that is the trust package's job).
   *
   * @throws UserInputException if the file is missing or not a SignedManifest
   */
  public SignedManifest readSignedManifest() {
    byte[] bytes = readSignedManifestBytes();
    try {
      SignedManifest sm = SignedManifest.parseFrom(bytes);
      if (sm.getManifest().isEmpty()) {
        throw new UserInputException(Bundle.manifestPath(dir) + ": garbled: no manifest inside");
      }
      return sm;
    } catch (InvalidProtocolBufferException e) {
      throw new UserInputException(Bundle.manifestPath(dir) + ": garbled, not a signed manifest", e);
    }
  }

  @Override
  public byte[] read(ChunkId id) throws IOException {
    Path p = Bundle.chunkPath(dir, id);
    byte[] bytes;
    try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
      bytes = in.readNBytes(ChunkParams.MAX_CHUNK_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw new MissingChunkException(id, "chunk " + id.hex() + " is missing from bundle " + dir);
    }
    if (bytes.length > ChunkParams.MAX_CHUNK_BYTES) {
      throw new CorruptChunkException(id, p + ": chunk larger than the " + ChunkParams.MAX_CHUNK_BYTES + "-byte limit");
    }
    if (!id.matches(bytes)) {
      throw new CorruptChunkException(id, p + ": content does not match chunk " + id.hex());
    }
    return bytes;
  }
}
