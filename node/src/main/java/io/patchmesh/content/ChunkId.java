package io.patchmesh.content;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.trust.Sha256Name;
import java.nio.ByteBuffer;
import io.patchmesh.trust.Sha256Digest;

/**
 * The name of a chunk: the SHA-256 of its bytes. Immutable; safe as a map key.
 *
 * <p>Hashing uses {@link Sha256Digest}: OpenSSL's SHA-256 (SHA-NI, ~2 GB/s per core here) where
 * libcrypto loads, else the JDK's (the same speed in C2 code, ~1/11 in C1 code).
 */
public final class ChunkId extends Sha256Name implements Comparable<ChunkId> {
  private static final String KIND = "chunk id";

  /**
   * One SHA-256 digest per thread for {@link #hash} and {@link #matches}, which hash a whole chunk
   * in one call: {@link java.security.MessageDigest#getInstance} per chunk looked the provider up and made a new
   * digest each time (a profile of a warm rollout showed the lookup on the workers). Reset before
   * every use, so a use that failed half-way leaves nothing behind; never handed out, never used
   * by another thread, and nothing called while it is in use hashes with it again.
   */
  private static final ThreadLocal<Sha256Digest> THREAD_DIGEST = ThreadLocal.withInitial(Sha256Digest::create);

  private ChunkId(byte[] bytes) {
    super(bytes);
  }

  /** Wraps a 32-byte digest (copied). */
  public static ChunkId of(byte[] digest) {
    return new ChunkId(checked(digest, KIND));
  }

  public static ChunkId of(ByteString digest) {
    return new ChunkId(checked(digest, KIND));
  }

  public static ChunkId fromHex(String hex) {
    return new ChunkId(fromHex(hex, KIND));
  }

  /** SHA-256 of {@code data[off, off+len)}. */
  public static ChunkId hash(byte[] data, int off, int len) {
    Sha256Digest md = threadDigest();
    md.update(data, off, len);
    return new ChunkId(md.digest());
  }

  public static ChunkId hash(byte[] data) {
    return hash(data, 0, data.length);
  }

  /** A fresh SHA-256 digest ({@link Sha256Digest#create}; not thread-safe). */
  public static Sha256Digest sha256() {
    return Sha256Digest.create();
  }

  /**
   * This thread's digest, reset: only for a hash begun and finished within one call here
   * (package-private for the test that leaves it dirty).
   */
  static Sha256Digest threadDigest() {
    Sha256Digest md = THREAD_DIGEST.get();
    md.reset();
    return md;
  }

  /** True iff {@code data} hashes to this id. */
  public boolean matches(byte[] data) {
    return matches(data, 0, data.length);
  }

  public boolean matches(byte[] data, int off, int len) {
    Sha256Digest md = threadDigest();
    md.update(data, off, len);
    return Sha256Digest.isEqual(raw(), md.digest());
  }

  /**
   * True iff {@code data} hashes to this id. Hashes the ByteString's own bytes where they lie
   * ({@link UnsafeByteOperations#unsafeWriteTo}): no copy of a received piece is made to check it.
   */
  public boolean matches(ByteString data) {
    Sha256Digest md = threadDigest();
    try {
      UnsafeByteOperations.unsafeWriteTo(data, new DigestOutput(md));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("hashing cannot fail", e);
    }
    return Sha256Digest.isEqual(raw(), md.digest());
  }

  /** Feeds what a ByteString hands over into a digest; reads the arrays and buffers, keeps none. */
  private static final class DigestOutput extends ByteOutput {
    private final Sha256Digest md;

    DigestOutput(Sha256Digest md) {
      this.md = md;
    }

    @Override
    public void write(byte value) {
      md.update(value);
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      md.update(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      md.update(value, offset, length);
    }

    @Override
    public void write(ByteBuffer value) {
      md.update(value);
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      md.update(value);
    }
  }

  @Override
  public int compareTo(ChunkId o) {
    return compareBytes(o);
  }
}
