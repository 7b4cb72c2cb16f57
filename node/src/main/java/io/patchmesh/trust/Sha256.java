package io.patchmesh.trust;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.apache.commons.codec.binary.Hex;

/** SHA-256 via the JDK (SHA-NI intrinsics; Bouncy Castle's digest is ~6x slower). */
final class Sha256 {
  private Sha256() {}

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("JDK without SHA-256", e);
    }
  }

  static String hex(byte[] data) {
    return Hex.encodeHexString(digest().digest(data));
  }
}
