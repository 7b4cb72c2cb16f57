package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trust manager remembers chains that passed PKIX by their bytes, and nothing else. */
class MeshTrustManagerCacheTest {
  private static final String TLS13 = "UNKNOWN";
  @TempDir Path dir;
  private final MeshCa ca = new MeshCa();
  private X509Certificate caCert;

  @BeforeEach
  void setUp() {
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "self", "s1", dir.resolve("self"));
    caCert = NodeIdentity.load(dir.resolve("self")).caCertificate();
  }

  private X509Certificate[] chainOf(String node, int days) {
    ca.issue(dir.resolve("ca"), node, "s1", dir.resolve(node), false, days, MeshCa.KeyType.P256);
    return new X509Certificate[] {NodeIdentity.load(dir.resolve(node)).certificate()};
  }

  @Test
  void aChainThatPassedIsAnsweredFromTheCacheForTheSameDirection() throws Exception {
    VerifiedChains cache = new VerifiedChains(16);
    MeshTrustManager trust = new MeshTrustManager(caCert, cache, Clock.systemUTC());
    X509Certificate[] peer = chainOf("peer", 30);
    trust.checkClientTrusted(peer, TLS13);
    assertEquals(0, cache.hits());
    trust.checkClientTrusted(peer, TLS13);
    trust.checkClientTrusted(peer, TLS13, (javax.net.ssl.SSLEngine) null);
    assertEquals(2, cache.hits());
    // checked as a server's chain, it goes through PKIX once more (the checks differ by direction)
    trust.checkServerTrusted(peer, TLS13);
    assertEquals(2, cache.hits());
    assertEquals(2, cache.size());
  }

  @Test
  void aChainOfAnotherCaIsRefusedEveryTimeAndNeverRemembered() {
    MeshCa other = new MeshCa();
    other.init(dir.resolve("other"));
    other.issue(dir.resolve("other"), "rogue", "s1", dir.resolve("rogue"));
    X509Certificate[] rogue = {NodeIdentity.load(dir.resolve("rogue")).certificate()};
    VerifiedChains cache = new VerifiedChains(16);
    MeshTrustManager trust = new MeshTrustManager(caCert, cache, Clock.systemUTC());
    for (int i = 0; i < 3; i++) {
      assertThrows(CertificateException.class, () -> trust.checkClientTrusted(rogue, TLS13));
    }
    assertEquals(0, cache.size());
    assertEquals(0, cache.hits());
    assertThrows(CertificateException.class, () -> trust.checkClientTrusted(new X509Certificate[0], TLS13));
  }

  @Test
  void aRememberedChainIsRefusedOnceItsCertificateHasExpired() throws Exception {
    X509Certificate[] peer = chainOf("short", 1);
    Instant afterExpiry = peer[0].getNotAfter().toInstant().plus(Duration.ofMinutes(1));
    MutableClock clock = new MutableClock(Instant.now());
    VerifiedChains cache = new VerifiedChains(16);
    MeshTrustManager trust = new MeshTrustManager(caCert, cache, clock);
    trust.checkClientTrusted(peer, TLS13);
    trust.checkClientTrusted(peer, TLS13);
    assertEquals(1, cache.hits());
    clock.now = afterExpiry;
    assertThrows(CertificateException.class, () -> trust.checkClientTrusted(peer, TLS13));
  }

  @Test
  void theCacheIsBoundedAndForgetsTheLeastRecentlyUsedChain() throws Exception {
    VerifiedChains cache = new VerifiedChains(2);
    MeshTrustManager trust = new MeshTrustManager(caCert, cache, Clock.systemUTC());
    X509Certificate[] a = chainOf("a", 30);
    X509Certificate[] b = chainOf("b", 30);
    X509Certificate[] c = chainOf("c", 30);
    trust.checkClientTrusted(a, TLS13);
    trust.checkClientTrusted(b, TLS13);
    trust.checkClientTrusted(a, TLS13); // a is now the most recently used
    trust.checkClientTrusted(c, TLS13); // b leaves
    assertEquals(2, cache.size());
    long hits = cache.hits();
    trust.checkClientTrusted(a, TLS13);
    assertEquals(hits + 1, cache.hits());
    trust.checkClientTrusted(b, TLS13); // checked by PKIX again, still trusted
    assertEquals(hits + 1, cache.hits());
    assertDoesNotThrow(() -> trust.checkClientTrusted(c, TLS13));
  }

  @Test
  void aChainWithTheCaCertificateAppendedIsItsOwnEntryAndPasses() throws Exception {
    VerifiedChains cache = new VerifiedChains(16);
    MeshTrustManager trust = new MeshTrustManager(caCert, cache, Clock.systemUTC());
    X509Certificate[] leaf = chainOf("leaf", 30);
    X509Certificate[] withCa = {leaf[0], caCert};
    trust.checkClientTrusted(leaf, TLS13);
    trust.checkClientTrusted(withCa, TLS13);
    trust.checkClientTrusted(withCa, TLS13);
    assertEquals(2, cache.size());
    assertEquals(1, cache.hits());
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
