package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.GeneralSecurityException;
import java.security.Security;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.Test;

/** Netty's JDK TLS 1.3 probe answered at start; every other use of the context is the JDK's. */
class JdkTlsProbeTest {
  private static final String TLS_13 = "TLSv1.3";

  private static List<String> list(String[] values) {
    return Arrays.asList(values);
  }

  @Test
  void answersTheProbesCallWithTheJdksTls13Answer() {
    boolean[] asked = new boolean[1];
    assertTrue(JdkTlsProbe.run(() -> {
      try {
        // What Netty's SslUtils.<clinit> does (newInitContext, then the two questions).
        SSLContext probe = SSLContext.getInstance("TLS");
        assertEquals(JdkTlsProbe.PROVIDER_NAME, probe.getProvider().getName());
        probe.init(null, new TrustManager[0], null);
        asked[0] = list(probe.getSupportedSSLParameters().getProtocols()).contains(TLS_13)
            && list(probe.getDefaultSSLParameters().getProtocols()).contains(TLS_13);
        return true;
      } catch (GeneralSecurityException e) {
        throw new AssertionError(e);
      }
    }));
    assertTrue(asked[0]);
    // The JDK's own answer is the same (this test's JVM runs 17+).
    try {
      SSLContext jdk = SSLContext.getInstance("TLS");
      jdk.init(null, new TrustManager[0], null);
      assertTrue(list(jdk.getSupportedSSLParameters().getProtocols()).contains(TLS_13));
      assertTrue(list(jdk.getDefaultSSLParameters().getProtocols()).contains(TLS_13));
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anyOtherUseIsTheJdksContext() {
    JdkTlsProbe.run(() -> {
      try {
        SSLContext other = SSLContext.getInstance("TLS");
        other.init(null, null, null);
        assertFalse(other.getDefaultSSLParameters().getCipherSuites().length == 0, "the JDK's parameters, with cipher suites");
        SSLEngine engine = other.createSSLEngine("peer", 443);
        assertTrue(list(engine.getSupportedProtocols()).contains(TLS_13));
        assertEquals("peer", engine.getPeerHost());
        return true;
      } catch (GeneralSecurityException e) {
        throw new AssertionError(e);
      }
    });
  }

  @Test
  void theProviderIsGoneAfterwardsEvenWhenInitialisationFails() throws GeneralSecurityException {
    assertThrows(IllegalStateException.class, () -> JdkTlsProbe.run(() -> {
      throw new IllegalStateException("init failed");
    }));
    JdkTlsProbe.run(() -> true);
    assertNull(Security.getProvider(JdkTlsProbe.PROVIDER_NAME));
    assertNotEquals(JdkTlsProbe.PROVIDER_NAME, SSLContext.getInstance("TLS").getProvider().getName());
  }

  @Test
  void configuredClientProtocolsLeaveTheProbeToTheJdk() {
    String before = System.getProperty("jdk.tls.client.protocols");
    try {
      System.setProperty("jdk.tls.client.protocols", "TLSv1.2");
      assertFalse(JdkTlsProbe.applies());
      JdkTlsProbe.run(() -> {
        assertNull(Security.getProvider(JdkTlsProbe.PROVIDER_NAME));
        return true;
      });
    } finally {
      if (before == null) {
        System.clearProperty("jdk.tls.client.protocols");
      } else {
        System.setProperty("jdk.tls.client.protocols", before);
      }
    }
    assertTrue(JdkTlsProbe.applies());
  }
}
