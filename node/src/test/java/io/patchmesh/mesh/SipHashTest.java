package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SipHashTest {
  private static final long K0 = 0x0706050403020100L;
  private static final long K1 = 0x0f0e0d0c0b0a0908L;

  @Test
  void matchesTheReferenceVectors() {
    byte[] msg = new byte[15];
    for (int i = 0; i < msg.length; i++) {
      msg[i] = (byte) i;
    }
    // SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e
    assertEquals(0xa129ca6149be45e5L, SipHash.hash(K0, K1, msg, 15));
    // reference vectors.h, the empty message
    assertEquals(0x726fdb47dd0e0e31L, SipHash.hash(K0, K1, msg, 0));
  }
}
