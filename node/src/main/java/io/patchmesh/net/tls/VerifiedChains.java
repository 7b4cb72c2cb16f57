package io.patchmesh.net.tls;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Certificate chains the PKIX check has already passed, so a peer that reconnects (or that every
 * SWIM probe and transfer link meets again) does not cost the CA signature check each handshake:
 * the JDK's Ed25519 verification, a few milliseconds warm and tens cold, and the C2 compile it
 * triggers (issue 15's profile: 17 s of compiler wall time in one rollout).
 *
 * <p>An entry is the SHA-256 of the whole chain's DER bytes, the direction (client or server
 * check) and the TLS auth type: only the very same bytes, checked the same way, hit. What the
 * signature check proved cannot change for the same bytes; what can change with time is not
 * cached: the caller re-checks validity dates on a hit, and revocation is checked after the
 * handshake (the transport's Hello check, membership), never here. Bounded: least recently
 * used entries leave first.
 */
final class VerifiedChains {
  /** A mesh of a few thousand peers fits; an entry is a 32-byte key and map overhead. */
  static final int DEFAULT_CAPACITY = 4096;

  private final int capacity;
  private final Map<ByteBuffer, Boolean> passed;
  private long hits;

  VerifiedChains(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
    this.passed = new LinkedHashMap<>(16, 0.75f, true);
  }

  /** The key of {@code chain} checked as a client or server chain with {@code authType}. */
  static ByteBuffer keyOf(X509Certificate[] chain, String authType, boolean clientChain) throws CertificateEncodingException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    sha.update((byte) (clientChain ? 'c' : 's'));
    sha.update(String.valueOf(authType).getBytes(StandardCharsets.UTF_8));
    for (X509Certificate c : chain) {
      byte[] der = c.getEncoded();
      // length-prefixed, so two chains that concatenate to the same bytes differ
      sha.update(ByteBuffer.allocate(4).putInt(0, der.length));
      sha.update(der);
    }
    return ByteBuffer.wrap(sha.digest());
  }

  synchronized boolean contains(ByteBuffer key) {
    boolean hit = passed.get(key) != null;
    if (hit) {
      hits++;
    }
    return hit;
  }

  synchronized void add(ByteBuffer key) {
    passed.put(key, Boolean.TRUE);
    if (passed.size() > capacity) {
      var eldest = passed.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
  }

  synchronized int size() {
    return passed.size();
  }

  /** Checks answered from this cache since it was made. */
  synchronized long hits() {
    return hits;
  }
}
