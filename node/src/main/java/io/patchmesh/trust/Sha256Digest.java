package io.patchmesh.trust;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 for everything an agent hashes per byte: chunks received (before they are stored), chunks
 * read back from disk, staged and applied files, manifests, native libraries unpacked. OpenSSL's
 * libcrypto computes it ({@link OpenSslSha256}: its SHA-NI / AVX2 code, as fast as the JDK's C2
 * intrinsic) when the library loads; otherwise the JDK's {@link MessageDigest}, said once in the log.
 * The native one lets an agent run without C2 ({@code -XX:TieredStopAtLevel=1}, bin/patchmesh): in C1
 * code the JDK's SHA-256 has no intrinsic and runs at ~1/11 of that speed (docs/BENCHMARKS.md 13f, 13am).
 *
 * <p>Not thread-safe: one per thread or per use, like a MessageDigest. {@link #digest} finishes the
 * hash and resets the digest for the next one. {@code -Dpatchmesh.sha256=jdk} forces the JDK's.
 */
public abstract class Sha256Digest {
  public static final int LENGTH = 32;

  /** The property that picks the JDK's digest even where OpenSSL's loads ({@code jdk}). */
  public static final String PROPERTY = "patchmesh.sha256";

  Sha256Digest() {}

  /** A fresh digest: OpenSSL's where it is bound, else the JDK's. */
  public static Sha256Digest create() {
    return OpenSslSha256.bound() ? new OpenSslSha256() : jdk();
  }

  /** The JDK's digest, whatever is bound (tests and benchmarks compare the two). */
  public static Sha256Digest jdk() {
    return new Jdk();
  }

  /** True if {@link #create} hands out OpenSSL's digest. */
  public static boolean isNative() {
    return OpenSslSha256.bound();
  }

  /** SHA-256 of {@code data} in one call. */
  public static byte[] of(byte[] data) {
    Sha256Digest d = create();
    d.update(data, 0, data.length);
    return d.digest();
  }

  /** Constant-time comparison of two digests ({@link MessageDigest#isEqual}). */
  public static boolean isEqual(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  public abstract void update(byte[] data, int off, int len);

  public final void update(byte[] data) {
    update(data, 0, data.length);
  }

  public final void update(byte b) {
    update(new byte[] {b}, 0, 1);
  }

  /** Hashes the buffer's remaining bytes; its position ends at its limit. */
  public abstract void update(ByteBuffer data);

  /** Finishes the hash into {@code out[at, at+32)} and resets this digest. */
  public abstract void digest(byte[] out, int at);

  /** Hashes {@code data}, then finishes the hash and resets this digest. */
  public final byte[] digest(byte[] data) {
    update(data, 0, data.length);
    return digest();
  }

  /** Finishes the hash and resets this digest. */
  public final byte[] digest() {
    byte[] out = new byte[LENGTH];
    digest(out, 0);
    return out;
  }

  /** Forgets what was hashed since the last {@link #digest}. */
  public abstract void reset();

  /** The JDK's SHA-256 (C2's SHA-NI / AVX2 intrinsic where C2 runs). */
  private static final class Jdk extends Sha256Digest {
    private final MessageDigest md;

    Jdk() {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("JDK without SHA-256", e);
      }
    }

    @Override
    public void update(byte[] data, int off, int len) {
      md.update(data, off, len);
    }

    @Override
    public void update(ByteBuffer data) {
      md.update(data);
    }

    @Override
    public void digest(byte[] out, int at) {
      try {
        md.digest(out, at, LENGTH);
      } catch (java.security.DigestException e) {
        throw new IllegalArgumentException(e);
      }
    }

    @Override
    public void reset() {
      md.reset();
    }
  }
}
