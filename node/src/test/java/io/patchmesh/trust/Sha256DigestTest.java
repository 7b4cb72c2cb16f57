package io.patchmesh.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * OpenSSL's SHA-256 gives the JDK's digest for every size, offset and way of passing the bytes; the
 * JDK's digest is the fallback where libcrypto is missing or lacks the calls. The machines the tests
 * run on have libcrypto (OpenSSL 3): if one does not, the equality tests fail, on purpose (the
 * launcher's C1-only agents need it).
 */
class Sha256DigestTest {
  /** Sizes around SHA-256's 64-byte block, its 55/56-byte padding edge and the 16 KiB copy buffer. */
  private static final int[] SIZES = {
    0, 1, 3, 31, 32, 55, 56, 57, 63, 64, 65, 119, 127, 128, 129, 1000, 4095, 4096, 16383, 16384, 16385,
    32767, 32768, 40000, 65535, 65536, 65537, 131072, 262145, (1 << 20) + 7
  };
  private static final int[] OFFSETS = {0, 1, 7, 64, 16385};

  private static byte[] jdk(byte[] data, int off, int len) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(data, off, len);
    return md.digest();
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void libcryptoIsBoundHere() {
    assertTrue(Sha256Digest.isNative(), "libcrypto's SHA-256 did not load on this machine");
    assertTrue(Sha256Digest.create() instanceof OpenSslSha256);
  }

  @Test
  void knownAnswers() {
    Sha256Digest d = new OpenSslSha256();
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        HexFormat.of().formatHex(d.digest()));
    byte[] abc = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        HexFormat.of().formatHex(d.digest(abc)));
  }

  @Test
  void everySizeAndOffsetOfAnArrayMatchesTheJdk() throws Exception {
    Sha256Digest d = new OpenSslSha256();
    for (int size : SIZES) {
      for (int off : OFFSETS) {
        byte[] data = random(off + size + 5, size * 31L + off);
        d.update(data, off, size);
        assertArrayEquals(jdk(data, off, size), d.digest(), "size " + size + " offset " + off);
      }
    }
  }

  @Test
  void everyKindOfBufferMatchesTheJdk() throws Exception {
    Sha256Digest d = new OpenSslSha256();
    for (int size : SIZES) {
      for (int off : OFFSETS) {
        byte[] data = random(off + size + 5, size * 17L + off + 1);
        byte[] want = jdk(data, off, size);
        ByteBuffer heap = ByteBuffer.wrap(data, off, size);
        ByteBuffer sliced = ByteBuffer.wrap(data).position(off).slice().limit(size); // arrayOffset != 0
        ByteBuffer readOnly = ByteBuffer.wrap(data, off, size).asReadOnlyBuffer();
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).position(off).limit(off + size);
        ByteBuffer directSlice = direct.duplicate().slice(); // address past the allocation's start
        for (ByteBuffer b : new ByteBuffer[] {heap, sliced, readOnly, direct, directSlice}) {
          int limit = b.limit();
          d.update(b);
          assertEquals(limit, b.position(), "the buffer is consumed");
          assertArrayEquals(want, d.digest(), "size " + size + " offset " + off + " " + b);
        }
      }
    }
  }

  @Test
  void aStreamInRandomPiecesMatchesTheJdk() throws Exception {
    Random r = new Random(20261207);
    byte[] data = random(3 << 20, 5);
    MessageDigest want = MessageDigest.getInstance("SHA-256");
    Sha256Digest d = new OpenSslSha256();
    Sha256Digest other = new OpenSslSha256(); // interleaved on the same thread, as a chunk read in a file's hash
    for (int round = 0; round < 20; round++) {
      int pos = r.nextInt(1000);
      int end = pos + r.nextInt(data.length - pos);
      while (pos < end) {
        int n = Math.min(end - pos, r.nextInt(5) == 0 ? r.nextInt(70) : r.nextInt(100_000));
        if (r.nextBoolean()) {
          d.update(data, pos, n);
        } else {
          d.update(ByteBuffer.wrap(data, pos, n));
        }
        want.update(data, pos, n);
        other.update(data, 0, r.nextInt(70_000));
        other.digest();
        pos += n;
      }
      byte[] out = new byte[40];
      d.digest(out, 3);
      byte[] expected = want.digest();
      assertArrayEquals(expected, java.util.Arrays.copyOfRange(out, 3, 35), "round " + round);
    }
  }

  @Test
  void digestAndResetStartTheNextHashAfresh() throws Exception {
    byte[] data = random(70_000, 9);
    Sha256Digest d = new OpenSslSha256();
    d.update(data, 0, 1000);
    d.reset();
    d.update(data, 0, data.length);
    assertArrayEquals(jdk(data, 0, data.length), d.digest());
    d.update((byte) 7);
    d.digest();
    assertArrayEquals(jdk(data, 5, 60_000), d.digest(java.util.Arrays.copyOfRange(data, 5, 60_005)));
  }

  @Test
  void rangesOutsideTheArrayAreRefusedBeforeAnythingIsHashed() throws Exception {
    Sha256Digest d = new OpenSslSha256();
    byte[] data = random(100, 1);
    assertThrows(IndexOutOfBoundsException.class, () -> d.update(data, 50, 51));
    assertThrows(IndexOutOfBoundsException.class, () -> d.update(data, -1, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> d.digest(new byte[40], 9));
    d.update(data, 0, 100);
    assertArrayEquals(jdk(data, 0, 100), d.digest());
  }

  @Test
  void theJdksDigestIsTheFallbackWhereLibcryptoIsMissingOrLacksTheCalls() throws Exception {
    assertFalse(OpenSslSha256.bind("libpatchmesh-no-such-crypto.so.9"));
    assertFalse(OpenSslSha256.bind("libpatchmesh-no-such-crypto.so.9", "libc.so.6")); // libc: no SHA256_Init
    byte[] data = random(100_000, 3);
    Sha256Digest d = Sha256Digest.jdk();
    d.update(data, 1, 50_000);
    d.update(ByteBuffer.wrap(data, 50_001, 49_999));
    assertArrayEquals(jdk(data, 1, 99_999), d.digest());
    assertArrayEquals(jdk(data, 0, data.length), Sha256Digest.of(data));
  }
}
