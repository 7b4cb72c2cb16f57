package io.patchmesh.trust;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * SHA-256 by OpenSSL's libcrypto ({@code SHA256_Init / _Update / _Final}: its SHA-NI or AVX2 block
 * code, picked by CPUID), bound by JNA's direct mapping. 64 KiB in ~32 µs here, the same as the JDK's
 * C2 intrinsic (docs/BENCHMARKS.md 13am).
 *
 * <p>The hash state ({@code SHA256_CTX}, 112 bytes) lives in a Java array that JNA copies in and out
 * around each call, so nothing native is allocated per digest and nothing needs freeing. The bytes
 * hashed are passed by address: a direct buffer's own, or a copy of a heap array's range in this
 * thread's 16 KiB direct scratch buffer (JNA would copy a whole array, whatever the range).
 */
final class OpenSslSha256 extends Sha256Digest {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OpenSslSha256.class);
  /** The libraries tried, in order (the versioned names: the unversioned one is a -dev package's). */
  static final String[] LIBRARIES = {"libcrypto.so.3", "libcrypto.so.1.1"};
  /** sizeof(SHA256_CTX) is 112 on every platform OpenSSL 1.1 / 3 builds; room to spare. */
  private static final int CTX_BYTES = 128;
  private static final int SCRATCH_BYTES = 16 << 10;
  private static final boolean BOUND = bind(LIBRARIES);
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final byte[] ctx = new byte[CTX_BYTES];
  private boolean started;

  OpenSslSha256() {
    if (!BOUND) {
      throw new IllegalStateException("libcrypto's SHA-256 is not bound");
    }
  }

  static boolean bound() {
    return BOUND;
  }

  static native int SHA256_Init(byte[] c);

  static native int SHA256_Update(byte[] c, long data, long len);

  static native int SHA256_Final(long md, byte[] c);

  /**
   * Binds the first library of {@code names} that has the three calls; false (and one line in the
   * log) if none does, or if the JDK's digest is asked for (package-private: the test of the fallback
   * gives names that do not exist).
   */
  static boolean bind(String... names) {
    if ("jdk".equals(System.getProperty(Sha256Digest.PROPERTY))) {
      log.info("SHA-256: the JDK's ({}=jdk)", Sha256Digest.PROPERTY);
      return false;
    }
    Throwable last = null;
    for (String name : names) {
      try {
        NativeLibrary lib = NativeLibrary.getInstance(name);
        lib.getFunction("SHA256_Init"); // all three, or none registered
        lib.getFunction("SHA256_Update");
        lib.getFunction("SHA256_Final");
        Native.register(OpenSslSha256.class, lib);
        if (!selfTest()) {
          log.warn("SHA-256: {} gave a wrong digest of a known input; using the JDK's", name);
          return false;
        }
        log.debug("SHA-256: {}", name);
        return true;
      } catch (LinkageError | RuntimeException e) { // not found, no such symbol, no JNA native here
        last = e;
      }
    }
    if ("c1".equals(System.getProperty("patchmesh.jit"))) { // the launcher found libcrypto, the JVM did not
      log.warn("SHA-256: the JDK's (no libcrypto with SHA256_Init: {}), in C1 code only: ~10 x slower;"
          + " PATCHMESH_JAVA_OPTS=\"-XX:TieredStopAtLevel=4 -XX:CICompilerCount=2\" gives the agent C2 back",
          String.valueOf(last));
    } else {
      log.info("SHA-256: the JDK's (no libcrypto with SHA256_Init: {})", String.valueOf(last));
    }
    return false;
  }

  /** SHA-256("abc") (FIPS 180-2, appendix B.1) through the calls just bound. */
  private static boolean selfTest() {
    byte[] ctx = new byte[CTX_BYTES];
    ByteBuffer s = ByteBuffer.allocateDirect(64);
    long at = Pointer.nativeValue(Native.getDirectBufferPointer(s));
    s.put(0, (byte) 'a').put(1, (byte) 'b').put(2, (byte) 'c');
    if (SHA256_Init(ctx) != 1 || SHA256_Update(ctx, at, 3) != 1 || SHA256_Final(at + 32, ctx) != 1) {
      return false;
    }
    byte[] md = new byte[LENGTH];
    s.get(32, md);
    return java.util.HexFormat.of().formatHex(md)
        .equals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  private void start() {
    if (!started) {
      check(SHA256_Init(ctx));
      started = true;
    }
  }

  @Override
  public void update(byte[] data, int off, int len) {
    Objects.checkFromIndexSize(off, len, data.length);
    start();
    Scratch s = SCRATCH.get();
    while (len > 0) {
      int n = Math.min(len, SCRATCH_BYTES);
      s.buf.put(0, data, off, n);
      check(SHA256_Update(ctx, s.address, n));
      off += n;
      len -= n;
    }
  }

  @Override
  public void update(ByteBuffer data) {
    start();
    int len = data.remaining();
    if (data.isDirect()) {
      long at = Pointer.nativeValue(Native.getDirectBufferPointer(data));
      check(SHA256_Update(ctx, at + data.position(), len));
      data.position(data.limit());
      return;
    }
    if (data.hasArray()) {
      update(data.array(), data.arrayOffset() + data.position(), len);
      data.position(data.limit());
      return;
    }
    Scratch s = SCRATCH.get(); // a read-only heap buffer: copied through the scratch buffer
    while (len > 0) {
      int n = Math.min(len, SCRATCH_BYTES);
      s.buf.put(0, data, data.position(), n);
      data.position(data.position() + n);
      check(SHA256_Update(ctx, s.address, n));
      len -= n;
    }
  }

  @Override
  public void digest(byte[] out, int at) {
    Objects.checkFromIndexSize(at, LENGTH, out.length);
    start();
    Scratch s = SCRATCH.get();
    check(SHA256_Final(s.address, ctx));
    started = false;
    s.buf.get(0, out, at, LENGTH);
  }

  @Override
  public void reset() {
    started = false;
  }

  private static void check(int ok) {
    if (ok != 1) {
      throw new IllegalStateException("libcrypto's SHA-256 failed");
    }
  }

  /** This thread's copy buffer (direct: freed with the thread's ThreadLocal after it ends). */
  private static final class Scratch {
    final ByteBuffer buf = ByteBuffer.allocateDirect(SCRATCH_BYTES);
    final long address = Pointer.nativeValue(Native.getDirectBufferPointer(buf));
  }
}
