package io.patchmesh.content;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.trust.Sha256Name;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The name of a chunk: the SHA-256 of its bytes. Immutable; safe as a map key.
 *
 * <p>Hashing uses the JDK's {@link MessageDigest} (SHA-NI intrinsics, ~1 GB/s per
 * core) rather than Bouncy Castle's pure-Java digest, which is ~6x slower.
 */
public final class ChunkId extends Sha256Name implements Comparable<ChunkId> {
  private static final String KIND = "chunk id";

  /**
   * One SHA-256 digest per thread for {@link #hash} and {@link #matches}, which hash a whole chunk
   * in one call: {@link MessageDigest#getInstance} per chunk looked the provider up and made a new
   * digest each time (a profile of a warm rollout showed the lookup on the workers). Reset before
   * every use, so a use that failed half-way leaves nothing behind; never handed out, never used
   * by another thread, and nothing called while it is in use hashes with it again.
   */
  private static final ThreadLocal<MessageDigest> THREAD_DIGEST = ThreadLocal.withInitial(ChunkId::sha256);

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
    MessageDigest md = threadDigest();
    md.update(data, off, len);
    return new ChunkId(md.digest());
  }

  public static ChunkId hash(byte[] data) {
    return hash(data, 0, data.length);
  }

  /** A fresh SHA-256 digest (MessageDigest instances are not thread-safe). */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("JDK without SHA-256", e);
    }
  }

  /**
   * This thread's digest, reset: only for a hash begun and finished within one call here
   * (package-private for the test that leaves it dirty).
   */
  static MessageDigest threadDigest() {
    MessageDigest md = THREAD_DIGEST.get();
    md.reset();
    return md;
  }

  /** True iff {@code data} hashes to this id. */
  public boolean matches(byte[] data) {
    return matches(data, 0, data.length);
  }

  public boolean matches(byte[] data, int off, int len) {
    MessageDigest md = threadDigest();
    md.update(data, off, len);
    return MessageDigest.isEqual(raw(), md.digest());
  }

  /**
   * True iff {@code data} hashes to this id. Hashes the ByteString's own bytes where they lie
   * ({@link UnsafeByteOperations#unsafeWriteTo}): no copy of a received piece is made to check it.
   */
  public boolean matches(ByteString data) {
    MessageDigest md = threadDigest();
    try {
      UnsafeByteOperations.unsafeWriteTo(data, new DigestOutput(md));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("hashing cannot fail", e);
    }
    return MessageDigest.isEqual(raw(), md.digest());
  }

  /** Feeds what a ByteString hands over into a digest; reads the arrays and buffers, keeps none. */
  private static final class DigestOutput extends ByteOutput {
    private final MessageDigest md;

    DigestOutput(MessageDigest md) {
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
