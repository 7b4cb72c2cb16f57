package io.patchmesh.net.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * The common case of {@link PemFiles}' reads with the JDK alone: a file that is exactly one PEM
 * block of the expected label, holding an X.509 certificate or a PKCS#8 Ed25519 or EC key.
 * Anything else (other text around the block, other key types, garbled bytes, a missing file)
 * comes back empty and {@link PemFiles} reads it with Bouncy Castle as before, for the same
 * result or the same error. A node's start reads its three PEM files here: BC's PEM and
 * certificate parsers are ~100 classes of every node's metadata (BENCHMARKS §12.33).
 */
final class JdkPem {
  /** DER of the OIDs {@code id-ecPublicKey} (1.2.840.10045.2.1) and {@code id-Ed25519} (1.3.101.112). */
  private static final byte[] EC_PUBLIC_KEY = {0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01};
  private static final byte[] ED25519 = {0x2B, 0x65, 0x70};
  private static final long MAX_BYTES = 64 * 1024;

  private JdkPem() {}

  static Optional<X509Certificate> certificate(Path file) {
    Optional<byte[]> der = single(file, "CERTIFICATE");
    if (der.isEmpty()) {
      return Optional.empty();
    }
    try {
      var parsed = CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der.get()));
      return parsed instanceof X509Certificate x509 && Arrays.equals(x509.getEncoded(), der.get())
          ? Optional.of(x509) : Optional.empty();
    } catch (GeneralSecurityException | RuntimeException e) {
      return Optional.empty();
    }
  }

  static Optional<PrivateKey> privateKey(Path file) {
    Optional<byte[]> der = single(file, "PRIVATE KEY");
    if (der.isEmpty()) {
      return Optional.empty();
    }
    byte[] oid = algorithmOid(der.get());
    String algorithm = Arrays.equals(oid, EC_PUBLIC_KEY) ? "EC" : Arrays.equals(oid, ED25519) ? "Ed25519" : null;
    if (algorithm == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der.get())));
    } catch (GeneralSecurityException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The DER of {@code file} if it is exactly one PEM block labelled {@code label}, else empty. */
  static Optional<byte[]> single(Path file, String label) {
    String text;
    try {
      if (Files.size(file) > MAX_BYTES) {
        return Optional.empty();
      }
      text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).strip();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    String begin = "-----BEGIN " + label + "-----";
    String end = "-----END " + label + "-----";
    if (!text.startsWith(begin) || !text.endsWith(end) || text.length() < begin.length() + end.length()) {
      return Optional.empty();
    }
    String body = text.substring(begin.length(), text.length() - end.length());
    if (body.contains("-") || body.contains(":")) {
      return Optional.empty(); // another block, or RFC 1421 headers: BC's parser decides
    }
    try {
      byte[] der = Base64.getDecoder().decode(body.replaceAll("\\s", ""));
      return der.length == 0 ? Optional.empty() : Optional.of(der);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * The algorithm OID's content bytes of a PKCS#8 {@code PrivateKeyInfo}
   * (SEQUENCE { INTEGER version, SEQUENCE { OID, ... }, ... }), or an empty array.
   */
  static byte[] algorithmOid(byte[] der) {
    int[] at = {0};
    if (!enter(der, at, 0x30) || !skip(der, at, 0x02) || !enter(der, at, 0x30)) {
      return new byte[0];
    }
    int length = header(der, at, 0x06);
    if (length < 0 || at[0] + length > der.length) {
      return new byte[0];
    }
    return Arrays.copyOfRange(der, at[0], at[0] + length);
  }

  private static boolean enter(byte[] der, int[] at, int tag) {
    int length = header(der, at, tag);
    return length >= 0 && at[0] + length <= der.length;
  }

  private static boolean skip(byte[] der, int[] at, int tag) {
    int length = header(der, at, tag);
    if (length < 0 || at[0] + length > der.length) {
      return false;
    }
    at[0] += length;
    return true;
  }

  /** Reads a tag and a DER length at {@code at}; the length, or -1 if not {@code tag} or malformed. */
  private static int header(byte[] der, int[] at, int tag) {
    int i = at[0];
    if (i + 2 > der.length || (der[i] & 0xFF) != tag) {
      return -1;
    }
    int first = der[i + 1] & 0xFF;
    i += 2;
    int length;
    if (first < 0x80) {
      length = first;
    } else {
      int bytes = first & 0x7F;
      if (bytes < 1 || bytes > 3 || i + bytes > der.length) {
        return -1;
      }
      length = 0;
      for (int k = 0; k < bytes; k++) {
        length = (length << 8) | (der[i++] & 0xFF);
      }
    }
    at[0] = i;
    return length;
  }
}
