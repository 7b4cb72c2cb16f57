package io.patchmesh.trust;

import com.google.protobuf.ByteString;

/** The id of a manifest: SHA-256 of the exact signed manifest bytes. Immutable. */
public final class ManifestId extends Sha256Name implements Comparable<ManifestId> {
  private static final String KIND = "manifest id";

  private ManifestId(byte[] bytes) {
    super(bytes);
  }

  public static ManifestId of(byte[] digest) {
    return new ManifestId(checked(digest, KIND));
  }

  public static ManifestId of(ByteString digest) {
    return new ManifestId(checked(digest, KIND));
  }

  /** Parses 64 hex characters. */
  public static ManifestId fromHex(String hex) {
    return new ManifestId(fromHex(hex, KIND));
  }

  /** The id of the given serialized manifest bytes. */
  public static ManifestId ofManifestBytes(byte[] manifestBytes) {
    return new ManifestId(sha256(manifestBytes));
  }

  @Override
  public int compareTo(ManifestId o) {
    return compareBytes(o);
  }
}
